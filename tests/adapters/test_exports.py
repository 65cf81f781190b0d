"""The adapters facade: what ``__all__`` names is there, and nothing of it is private."""

from __future__ import annotations

from pyinterlink import adapters


def test_every_public_name_is_exported() -> None:
    assert all(hasattr(adapters, name) for name in adapters.__all__)
    assert not [name for name in adapters.__all__ if name.startswith("_")]
    assert {
        "CommandRunner",
        "CommandResult",
        "LocalRunner",
        "SSHRunner",
        "SSHTarget",
        "TransportError",
        "CommandTimeoutError",
        "OutputTooLargeError",
    } <= set(adapters.__all__)


def test_the_transport_errors_are_one_family() -> None:
    assert issubclass(adapters.CommandTimeoutError, adapters.TransportError)
    assert issubclass(adapters.OutputTooLargeError, adapters.TransportError)
