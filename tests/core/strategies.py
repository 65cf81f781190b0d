"""Hypothesis strategies for the pod model, derived from the attrs classes themselves.

Deriving them (rather than writing one per class) means a field added to the model is
covered by the round-trip property without anyone remembering to extend a strategy.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

import attrs
from hypothesis import strategies as st
from pyinterlink.core import _model as m
from pyinterlink.core._quantity import Quantity, parse_quantity

# Keys a test document may use for an unknown volume source (never a modelled one).
UNSUPPORTED_KINDS = ("nfs", "csi", "iscsi", "cephfs", "ephemeral", "clusterTrustBundle")

text = st.text(max_size=12)
names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
quantities = st.builds(
    lambda number, suffix: parse_quantity(f"{number}{suffix}"),
    st.integers(0, 10**7),
    st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti", "e3"]),
)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is str:
        return text
    if tp is int:
        return st.integers(-(2**40), 2**40)
    if tp is bool:
        return st.booleans()
    if tp is bytes:
        return st.binary(max_size=16)
    if tp is Quantity:
        return quantities
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is tuple:
        return st.lists(_strategy(args[0]), max_size=2).map(tuple)
    if origin is dict:
        return st.dictionaries(text, _strategy(args[1]), max_size=2)
    if attrs.has(tp):
        return model(tp)
    raise NotImplementedError(tp)


@cache
def model(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Every value of an attrs model class (nested classes included)."""
    attrs.resolve_types(cls, globalns=vars(m))
    fields = {f.name: f for f in attrs.fields(cls)}
    if "unsupported" in fields:
        # A source we do not model stands alone (the JSON has only its key).
        known = {
            name: st.deferred(lambda f=f: _strategy(f.type))  # type: ignore[misc]
            for name, f in fields.items()
            if name != "unsupported"
        }
        unsupported = st.builds(m.UnsupportedVolumeSource, kind=st.sampled_from(UNSUPPORTED_KINDS))
        alone = {"name": text} if "name" in fields else {}
        return st.one_of(
            st.builds(cls, **known),
            st.builds(cls, unsupported=unsupported, **alone),
        )
    return st.builds(cls, **{name: _deferred(f.type) for name, f in fields.items()})


def _deferred(tp: Any) -> st.SearchStrategy[Any]:
    # Deferred so that recursive model classes do not recurse while strategies are built.
    return st.deferred(lambda: _strategy(tp))


pods = model(m.Pod)
config_maps = model(m.ConfigMap)
secrets = model(m.Secret)
