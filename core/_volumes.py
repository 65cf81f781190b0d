"""Pod volumes → the files, directories and mounts of the job's working directory.

Layout (upstream names): ``configMaps/<volume>/<path>``, ``secrets/<volume>/<path>``,
``projectedVolumeMaps/<volume>/<path>`` (projected and downwardAPI volumes) and
``emptyDirs/<volume>/``. Every path a user controls (ConfigMap keys, ``items[].path``,
``subPath``) is checked so that it stays inside its volume: relative, no ``..``, no empty
segment. ConfigMap, Secret, projected and downwardAPI volumes are read-only in the container,
as Kubernetes mounts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import attrs

from ._env import PodFacts, field_value, resource_value
from ._errors import PodError, key_path
from ._job import FileToWrite, Mount
from ._model import DownwardAPIVolumeFile, KeyToPath, Pod, Volume, VolumeMount
from ._objects import PodObjects

__all__ = ["VolumeLayout", "check_relative_path", "lay_out_volumes", "mounts_of"]

_DEFAULT_MODE = 0o644  # Kubernetes' default for configMap, secret, projected and downwardAPI


@attrs.frozen(kw_only=True)
class _Source:
    """Where a volume lives for the job: a working-directory path or a host path."""

    path: str
    host: bool = False
    read_only: bool = False


@attrs.frozen(kw_only=True)
class VolumeLayout:
    """Files and directories the job creates, and where each volume's data lives."""

    files: tuple[FileToWrite, ...] = ()
    empty_dirs: tuple[str, ...] = ()
    sources: Mapping[str, _Source] = attrs.field(factory=dict)
    warnings: tuple[str, ...] = ()


def check_relative_path(path: str, *, field: str) -> str:
    """Return ``path`` if it is relative and stays inside its directory, else raise."""
    if not path:
        raise PodError("must not be empty", path=field)
    if "\x00" in path:
        raise PodError("must not contain a NUL character", path=field)
    if path.startswith("/"):
        raise PodError(f"{path!r} must be a relative path", path=field)
    parts = path.split("/")
    if any(part == ".." for part in parts):
        raise PodError(f"{path!r} must not contain '..'", path=field)
    if any(part in {"", "."} for part in parts[:-1]) or parts[-1] in {"", "."}:
        raise PodError(f"{path!r} has an empty or '.' path segment", path=field)
    return path


def _select(
    contents: Mapping[str, bytes],
    items: Sequence[KeyToPath],
    default_mode: int | None,
    *,
    object_name: str,
    field: str,
) -> list[tuple[str, bytes, int]]:
    """(relative path, content, mode) for the keys a volume projects."""
    mode = default_mode if default_mode is not None else _DEFAULT_MODE
    _check_mode(mode, field=f"{field}.defaultMode")
    if not items:
        return [
            (check_relative_path(key, field=key_path(f"{object_name}.data", key)), raw, mode)
            for key, raw in sorted(contents.items())
        ]
    selected = []
    for index, item in enumerate(items):
        where = f"{field}.items[{index}]"
        if item.key not in contents:
            raise PodError(f"{object_name} has no key {item.key!r}", path=f"{where}.key")
        item_mode = item.mode if item.mode is not None else mode
        _check_mode(item_mode, field=f"{where}.mode")
        path = check_relative_path(item.path, field=f"{where}.path")
        selected.append((path, contents[item.key], item_mode))
    return selected


def _check_mode(mode: int, *, field: str) -> None:
    if not 0 <= mode <= 0o777:
        raise PodError(f"mode {mode} is not between 0 and 0777 (511)", path=field)


def lay_out_volumes(pod: Pod, objects: PodObjects, facts: PodFacts) -> VolumeLayout:
    """Decide the files and directories of every volume of ``pod``.

    ``facts`` resolve downwardAPI items. Missing ConfigMaps or Secrets are errors unless the
    volume is optional; volume kinds that cannot be offloaded are errors naming the volume.
    """
    files: list[FileToWrite] = []
    empty_dirs: list[str] = []
    sources: dict[str, _Source] = {}
    warnings: list[str] = []
    seen: set[str] = set()
    for index, volume in enumerate(pod.spec.volumes):
        field = f"spec.volumes[{index}]"
        check_relative_path(volume.name, field=f"{field}.name")
        if "/" in volume.name:
            raise PodError(f"{volume.name!r} must not contain '/'", path=f"{field}.name")
        if volume.name in seen:
            raise PodError(f"duplicate volume name {volume.name!r}", path=f"{field}.name")
        seen.add(volume.name)
        placed = _lay_out_one(volume, objects, facts, field=field, warnings=warnings)
        sources[volume.name] = placed.source
        files.extend(placed.files)
        if placed.empty_dir:
            empty_dirs.append(placed.source.path)
    return VolumeLayout(
        files=tuple(files),
        empty_dirs=tuple(empty_dirs),
        sources=sources,
        warnings=tuple(warnings),
    )


@attrs.frozen(kw_only=True)
class _Placed:
    source: _Source
    files: tuple[FileToWrite, ...] = ()
    empty_dir: bool = False


def _downward_entries(
    items: Sequence[DownwardAPIVolumeFile], facts: PodFacts, *, field: str
) -> list[tuple[str, bytes, int | None]]:
    """(relative path, content, mode or None) for downwardAPI items."""
    entries: list[tuple[str, bytes, int | None]] = []
    for index, item in enumerate(items):
        where = f"{field}.items[{index}]"
        path = check_relative_path(item.path, field=f"{where}.path")
        if item.mode is not None:
            _check_mode(item.mode, field=f"{where}.mode")
        if item.field_ref is not None:
            value = field_value(item.field_ref, facts, path=f"{where}.fieldRef")
        elif item.resource_field_ref is not None:
            if not item.resource_field_ref.container_name:
                raise PodError(
                    "containerName is required in a volume",
                    path=f"{where}.resourceFieldRef.containerName",
                )
            value = resource_value(
                item.resource_field_ref, "", facts, path=f"{where}.resourceFieldRef"
            )
        else:
            raise PodError("the item names neither fieldRef nor resourceFieldRef", path=where)
        entries.append((path, value.encode(), item.mode))
    return entries


def _files(base: str, entries: Sequence[tuple[str, bytes, int]]) -> tuple[FileToWrite, ...]:
    return tuple(FileToWrite(path=f"{base}/{p}", content=c, mode=m) for p, c, m in entries)


def _lay_out_one(
    volume: Volume,
    objects: PodObjects,
    facts: PodFacts,
    *,
    field: str,
    warnings: list[str],
) -> _Placed:
    name = volume.name
    if volume.empty_dir is not None:
        if volume.empty_dir.medium == "Memory":
            warnings.append(f"{field}.emptyDir: medium Memory is served from disk")
        if volume.empty_dir.size_limit is not None:
            warnings.append(f"{field}.emptyDir: sizeLimit is not enforced")
        return _Placed(source=_Source(path=f"emptyDirs/{name}"), empty_dir=True)
    if volume.config_map is not None:
        source = volume.config_map
        base = f"configMaps/{name}"
        config_map = objects.config_maps.get(source.name)
        if config_map is None:
            if source.optional:
                return _Placed(source=_Source(path=base, read_only=True), empty_dir=True)
            raise PodError(
                f"ConfigMap {source.name!r} is not available", path=f"{field}.configMap.name"
            )
        entries = _select(
            config_map.contents(),
            source.items,
            source.default_mode,
            object_name=f"ConfigMap {source.name!r}",
            field=f"{field}.configMap",
        )
        return _Placed(
            source=_Source(path=base, read_only=True),
            files=_files(base, entries),
            empty_dir=not entries,
        )
    if volume.secret is not None:
        ssource = volume.secret
        base = f"secrets/{name}"
        secret = objects.secrets.get(ssource.secret_name)
        if secret is None:
            if ssource.optional:
                return _Placed(source=_Source(path=base, read_only=True), empty_dir=True)
            raise PodError(
                f"Secret {ssource.secret_name!r} is not available",
                path=f"{field}.secret.secretName",
            )
        entries = _select(
            secret.contents(),
            ssource.items,
            ssource.default_mode,
            object_name=f"Secret {ssource.secret_name!r}",
            field=f"{field}.secret",
        )
        return _Placed(
            source=_Source(path=base, read_only=True),
            files=_files(base, entries),
            empty_dir=not entries,
        )
    if volume.projected is not None or volume.downward_api is not None:
        base = f"projectedVolumeMaps/{name}"
        entries = _projected_entries(volume, objects, facts, field=field, warnings=warnings)
        return _Placed(
            source=_Source(path=base, read_only=True),
            files=_files(base, entries),
            empty_dir=not entries,
        )
    if volume.host_path is not None:
        host = volume.host_path.path
        if not host.startswith("/"):
            raise PodError(f"{host!r} must be an absolute path", path=f"{field}.hostPath.path")
        return _Placed(source=_Source(path=host, host=True))
    if volume.persistent_volume_claim is not None:
        raise PodError(
            "persistentVolumeClaim volumes cannot be offloaded: the claim's storage lives in "
            "the cluster",
            path=f"{field}.persistentVolumeClaim",
        )
    if volume.unsupported is not None:
        raise PodError(
            f"volume source {volume.unsupported.kind!r} is not supported for offloaded pods "
            "(supported: configMap, secret, emptyDir, projected, downwardAPI, hostPath)",
            path=f"{field}.{volume.unsupported.kind}",
        )
    # The API server defaults a volume without a source to an emptyDir; so do we.
    return _Placed(source=_Source(path=f"emptyDirs/{name}"), empty_dir=True)


def _projected_entries(
    volume: Volume,
    objects: PodObjects,
    facts: PodFacts,
    *,
    field: str,
    warnings: list[str],
) -> list[tuple[str, bytes, int]]:
    resolved = objects.projected.get(volume.name)
    if volume.downward_api is not None:
        mode = volume.downward_api.default_mode
        where = f"{field}.downwardAPI"
    else:
        assert volume.projected is not None
        mode = volume.projected.default_mode
        where = f"{field}.projected"
    default_mode = mode if mode is not None else _DEFAULT_MODE
    _check_mode(default_mode, field=f"{where}.defaultMode")
    if resolved is not None:
        # The virtual kubelet resolved this volume (tokens included): use it as is.
        return [
            (
                check_relative_path(path, field=key_path(f"{where}[resolved]", path)),
                raw,
                default_mode,
            )
            for path, raw in sorted(resolved.items())
        ]
    if volume.downward_api is not None:
        return [
            (path, raw, m if m is not None else default_mode)
            for path, raw, m in _downward_entries(volume.downward_api.items, facts, field=where)
        ]
    assert volume.projected is not None
    entries: list[tuple[str, bytes, int]] = []
    for index, projection in enumerate(volume.projected.sources):
        at = f"{where}.sources[{index}]"
        ref = projection.config_map or projection.secret
        if ref is not None:
            kind: Literal["ConfigMap", "Secret"]
            kind, field = (
                ("ConfigMap", "configMap") if projection.config_map else ("Secret", "secret")
            )
            contents = objects.contents(kind, ref.name)
            if contents is None:
                if not ref.optional:
                    raise PodError(
                        f"{kind} {ref.name!r} is not available", path=f"{at}.{field}.name"
                    )
                continue
            entries.extend(
                _select(
                    contents,
                    ref.items,
                    default_mode,
                    object_name=f"{kind} {ref.name!r}",
                    field=f"{at}.{field}",
                )
            )
        elif projection.downward_api is not None:
            entries.extend(
                (path, raw, m if m is not None else default_mode)
                for path, raw, m in _downward_entries(
                    projection.downward_api.items, facts, field=f"{at}.downwardAPI"
                )
            )
        elif projection.service_account_token is not None:
            token = projection.service_account_token
            check_relative_path(token.path, field=f"{at}.serviceAccountToken.path")
            warnings.append(
                f"{at}.serviceAccountToken: no token is available here (the virtual kubelet "
                f"requests one from the cluster); {token.path!r} is left out"
            )
        elif projection.unsupported is not None:
            raise PodError(
                f"projected source {projection.unsupported.kind!r} is not supported",
                path=f"{at}.{projection.unsupported.kind}",
            )
        else:
            raise PodError("the projection names no source", path=at)
    paths = [path for path, _, _ in entries]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        raise PodError(f"two sources write the same path {duplicates[0]!r}", path=where)
    return entries


def mounts_of(
    mounts: Sequence[VolumeMount], layout: VolumeLayout, *, field: str
) -> tuple[Mount, ...]:
    """The job mounts of one container's ``volumeMounts`` (``field`` names the container)."""
    result: list[Mount] = []
    targets: set[str] = set()
    for index, mount in enumerate(mounts):
        where = f"{field}.volumeMounts[{index}]"
        source = layout.sources.get(mount.name)
        if source is None:
            raise PodError(f"no volume named {mount.name!r}", path=f"{where}.name")
        if not mount.mount_path.startswith("/"):
            raise PodError(
                f"{mount.mount_path!r} must be an absolute path", path=f"{where}.mountPath"
            )
        if mount.mount_path in targets:
            raise PodError(f"{mount.mount_path!r} is mounted twice", path=f"{where}.mountPath")
        targets.add(mount.mount_path)
        if mount.sub_path_expr:
            raise PodError(
                "subPathExpr is not supported for offloaded pods; use subPath",
                path=f"{where}.subPathExpr",
            )
        path = source.path
        if mount.sub_path:
            sub = check_relative_path(mount.sub_path, field=f"{where}.subPath")
            path = f"{path}/{sub}"
        result.append(
            Mount(
                source=path,
                target=mount.mount_path,
                read_only=mount.read_only or source.read_only,
                host=source.host,
            )
        )
    return tuple(result)
