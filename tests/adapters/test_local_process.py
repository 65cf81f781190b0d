"""What only the local runner does: its working directory, its settings, its own errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyinterlink.adapters import LocalRunner, TransportError

pytestmark = pytest.mark.anyio


async def test_commands_run_in_the_working_directory(tmp_path: Path) -> None:
    runner = LocalRunner(cwd=str(tmp_path))
    result = await runner.run(["pwd"])
    assert result.stdout == f"{tmp_path}\n".encode()


async def test_a_missing_working_directory_cannot_run(tmp_path: Path) -> None:
    runner = LocalRunner(cwd=str(tmp_path / "gone"))
    with pytest.raises(TransportError, match=r"cannot run 'pwd' \(in .*gone\)"):
        await runner.run(["pwd"])


async def test_the_error_names_the_command_and_the_reason() -> None:
    with pytest.raises(TransportError) as caught:
        await LocalRunner().run(["pyinterlink-no-such-program"])
    assert str(caught.value) == (
        "cannot run 'pyinterlink-no-such-program': No such file or directory"
    )
    assert isinstance(caught.value.__cause__, FileNotFoundError)


async def test_a_stream_of_a_missing_program_fails_on_entry() -> None:
    with pytest.raises(TransportError, match="pyinterlink-no-such-program"):
        async with LocalRunner().stream(["pyinterlink-no-such-program"]):
            pytest.fail("entered")


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="kill_grace"):
        LocalRunner(kill_grace=-1)
    assert repr(LocalRunner(kill_grace=1.0)) == "LocalRunner(kill_grace=1.0, cwd=None)"
