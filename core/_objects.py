"""What a pod can refer to besides itself: ConfigMaps, Secrets and pre-resolved projections.

The virtual kubelet gathers these from the cluster; ``interlink render`` takes them from the
pod's YAML file. Translation only ever reads them through :class:`PodObjects`, so a missing
object is one clear error naming the reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from ._model import ConfigMap, Secret

__all__ = ["PodObjects"]


@attrs.frozen(kw_only=True)
class PodObjects:
    """ConfigMaps and Secrets by name, and projected volume contents by volume name.

    ``projected`` follows upstream's ``projectedvolumesmaps``: for a projected or downwardAPI
    volume, the virtual kubelet may already have resolved every file (service account tokens
    included); when present, that content is used as is.
    """

    config_maps: Mapping[str, ConfigMap] = attrs.field(factory=dict)
    secrets: Mapping[str, Secret] = attrs.field(factory=dict)
    projected: Mapping[str, Mapping[str, bytes]] = attrs.field(factory=dict)

    def contents(self, kind: Literal["ConfigMap", "Secret"], name: str) -> dict[str, bytes] | None:
        """Every key of the named ConfigMap or Secret with its bytes, or ``None`` if absent."""
        found = (self.config_maps if kind == "ConfigMap" else self.secrets).get(name)
        return None if found is None else found.contents()

    @classmethod
    def of(
        cls,
        config_maps: Iterable[ConfigMap] = (),
        secrets: Iterable[Secret] = (),
        projected: Mapping[str, Mapping[str, bytes]] | None = None,
    ) -> PodObjects:
        """Index objects by ``metadata.name`` (a later object of the same name wins)."""
        return cls(
            config_maps={c.metadata.name: c for c in config_maps},
            secrets={s.metadata.name: s for s in secrets},
            projected=dict(projected or {}),
        )
