"""The reader script that describes an HDF5 file, and the typed form of what it reports.

The script runs in a child interpreter (an old-h5py venv or this one), so it uses only h5py, numpy
and the standard library, and works with h5py 3.8 and later. It walks every link from the root
(a hard-linked object appears under each of its paths, with the same ``addr``), does not follow
soft or external links, and prints one JSON document.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np


class DatasetDescription(TypedDict):
    kind: Literal["dataset"]
    addr: int
    """Object header address (``h5py.h5o.get_info(obj.id).addr``): equal for hard links."""
    attrs: list[str]
    shape: tuple[int, ...]
    maxshape: tuple[int | None, ...]
    chunks: tuple[int, ...] | None
    dtype: str
    """numpy ``dtype.str`` as h5py reports it, e.g. ``"<u2"``."""
    compression: str | None
    compression_opts: Any
    shuffle: bool
    fletcher32: bool
    filters: list[tuple[int, int, tuple[int, ...], str]]
    """Raw pipeline: (filter id, flags, cd_values, name) per filter, in order."""
    sha256: str | None
    """sha256 of ``ds[()]`` as C-ordered bytes (see :func:`array_sha256`); None if unreadable."""
    read_error: str | None


class GroupDescription(TypedDict):
    kind: Literal["group"]
    addr: int
    attrs: list[str]
    members: list[str]
    """Link names in the group, sorted."""


class LinkDescription(TypedDict):
    kind: Literal["softlink", "externallink"]
    target: str


class FileDescription(TypedDict):
    h5py_version: str
    hdf5_version: str
    """The reader's libhdf5, e.g. ``"1.12.2"``."""
    datasets: dict[str, DatasetDescription]
    """Every path to a dataset, from the root: ``"/frames"``, ``"/entry/data/data"``."""
    groups: dict[str, GroupDescription]
    """Every path to a group, ``"/"`` included."""
    links: dict[str, LinkDescription]
    """Soft and external links (not followed)."""
    exported: dict[str, str]
    arrays: NotRequired[dict[str, np.ndarray[Any, Any]]]
    """Full arrays of the datasets the caller asked to export, by the name the caller used."""


def array_sha256(array: np.ndarray[Any, Any]) -> str:
    """The digest the describe script computes for a dataset's ``ds[()]``."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


_TUPLE_KEYS = ("shape", "maxshape", "chunks")


def decode_description(stdout: str) -> FileDescription:
    """Parse the script's output, turning JSON lists back into the tuples h5py uses."""
    raw: dict[str, Any] = json.loads(stdout)
    datasets: dict[str, DatasetDescription] = {}
    groups: dict[str, GroupDescription] = {}
    links: dict[str, LinkDescription] = {}
    for path, obj in raw["objects"].items():
        if obj["kind"] == "group":
            groups[path] = obj
            continue
        if obj["kind"] != "dataset":
            links[path] = obj
            continue
        datasets[path] = obj
        for key in _TUPLE_KEYS:
            if obj[key] is not None:
                obj[key] = tuple(obj[key])
        if isinstance(obj["compression_opts"], list):
            obj["compression_opts"] = tuple(obj["compression_opts"])
        obj["filters"] = [(fid, flags, tuple(cd), name) for fid, flags, cd, name in obj["filters"]]
    description: FileDescription = {
        "h5py_version": raw["h5py_version"],
        "hdf5_version": raw["hdf5_version"],
        "datasets": datasets,
        "groups": groups,
        "links": links,
        "exported": raw["exported"],
    }
    return description


DESCRIBE_SCRIPT = r"""
import hashlib, json, os, sys
import numpy as np
import h5py

request = json.loads(sys.argv[1])


def addr(obj):
    return int(h5py.h5o.get_info(obj.id).addr)


def to_json(value):
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def filters_of(ds):
    plist = ds.id.get_create_plist()
    found = []
    for index in range(plist.get_nfilters()):
        fid, flags, cd_values, name = plist.get_filter(index)
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        found.append([int(fid), int(flags), [int(v) for v in cd_values], name])
    return found


def describe_dataset(ds):
    entry = {
        "kind": "dataset",
        "addr": addr(ds),
        "attrs": sorted(ds.attrs.keys()),
        "shape": list(ds.shape),
        "maxshape": list(ds.maxshape) if ds.maxshape is not None else None,
        "chunks": list(ds.chunks) if ds.chunks is not None else None,
        "dtype": ds.dtype.str,
        "compression": ds.compression,
        "compression_opts": to_json(ds.compression_opts),
        "shuffle": bool(ds.shuffle),
        "fletcher32": bool(ds.fletcher32),
        "filters": filters_of(ds),
        "sha256": None,
        "read_error": None,
    }
    try:
        data = ds[()]
    except Exception as exc:
        entry["read_error"] = f"{type(exc).__name__}: {exc}"
    else:
        entry["sha256"] = hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()
    return entry


def walk(group, path, objects, seen_groups):
    objects[path] = {
        "kind": "group",
        "addr": addr(group),
        "attrs": sorted(group.attrs.keys()),
        "members": sorted(group.keys()),
    }
    seen_groups.add(objects[path]["addr"])
    for name in sorted(group.keys()):
        child_path = path.rstrip("/") + "/" + name
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.SoftLink):
            objects[child_path] = {"kind": "softlink", "target": link.path}
            continue
        if isinstance(link, h5py.ExternalLink):
            target = link.filename + ":" + link.path
            objects[child_path] = {"kind": "externallink", "target": target}
            continue
        child = group[name]
        if isinstance(child, h5py.Dataset):
            objects[child_path] = describe_dataset(child)
        elif addr(child) in seen_groups:  # a hard link back up the tree: record, do not recurse
            objects[child_path] = {
                "kind": "group",
                "addr": addr(child),
                "attrs": sorted(child.attrs.keys()),
                "members": sorted(child.keys()),
            }
        else:
            walk(child, child_path, objects, seen_groups)


with h5py.File(request["path"], "r", swmr=request["swmr"]) as f:
    objects = {}
    walk(f, "/", objects, set())
    exported = {}
    for index, name in enumerate(request["export"]):
        file_name = f"{index}.npy"
        np.save(os.path.join(request["out_dir"], file_name), f[name][()], allow_pickle=False)
        exported[name] = file_name

print(json.dumps({
    "h5py_version": h5py.__version__,
    "hdf5_version": h5py.version.hdf5_version,
    "objects": objects,
    "exported": exported,
}))
"""
