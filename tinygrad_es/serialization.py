"""save/load of state dicts ({name: array}) as .npz files.

The file is written next to its destination under a fixed temporary name and then renamed over
it, so a crash never leaves half a checkpoint, and the next save to the same place replaces what a
killed one left. Loading never unpickles: a checkpoint holds plain numeric arrays only. A file from
a stranger is checked before anything is allocated: every array's size, as the archive declares it,
must fit in `max_bytes` and in what the archive's own size can hold.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from .engine import Tensor

_NUMERIC_KINDS = "biuf"  # bool, int, unsigned, float: what a checkpoint holds (no complex, strings, objects)
DEFAULT_MAX_BYTES = 2**30  # 1 GiB of arrays: far more than any model this library trains
# DEFLATE (np.savez_compressed) cannot expand more than 1032:1 (a 258-byte match costs at least two
# bits), and np.savez stores without compression (1:1). An archive declaring more than 1032 times
# its own size is a zip bomb, not data. The slack lets tiny archives declare their headers.
_MAX_EXPANSION, _EXPANSION_SLACK = 1032, 2**20
_NPY_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def save(state_dict: Mapping[str, Tensor | npt.ArrayLike], path: str | os.PathLike[str]) -> None:
    """Write `state_dict` (e.g. model.state_dict()) to `path` as an .npz archive, atomically.

    Any string key is kept as it is, dots and slashes included (each array is the member
    "<key>.npy", as np.savez names them). The file gets the permissions `open()` gives a new file."""
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: state_dict keys must be strings, got {name!r}")
        if "\0" in name:  # a zip member name ends at its first NUL
            raise ValueError(f"save: {name!r}: a key cannot hold a NUL character")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"save: {name!r} is a {array.dtype} array; only numeric arrays can be saved")
        arrays[name] = array
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a killed save's leftover: start afresh, with the permissions open() gives
    f = open(tmp, "xb")
    try:
        with f:
            # What np.savez does, without passing the keys as keyword arguments (a key "file" or
            # "allow_pickle" would collide with its own).
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in arrays.items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Read a state dict written by `save`: {name: array}, in the saved order.

    Refuses (ValueError, before allocating) a file whose arrays add up to more than `max_bytes`,
    or that declares more than it can hold."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise ValueError("it holds a single array, not a state dict")
        with zipfile.ZipFile(path) as archive:
            members = _checked_members(archive, os.path.getsize(path), max_bytes)
            state_dict = {}
            for name, info in members.items():
                with archive.open(info) as member:
                    state_dict[name] = np.lib.format.read_array(member, allow_pickle=False)
        return state_dict
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
        # NotImplementedError: a compression zipfile cannot read; RuntimeError: an encrypted member
        raise ValueError(f"load: {path} is not a readable checkpoint (.npz of numeric arrays): {error}") from error


def _checked_members(archive, archive_size, max_bytes):
    """{name: ZipInfo} of an archive whose every member is a numeric .npy array, and whose sizes,
    from the zip directory and from each array's header, are within the limits."""
    infos = archive.infolist()
    declared = sum(info.file_size for info in infos)
    if declared > _MAX_EXPANSION * archive_size + _EXPANSION_SLACK:
        raise ValueError(
            f"its members declare {declared} bytes, more than a {archive_size}-byte archive can hold (a zip bomb?)"
        )
    members, total = {}, 0
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise ValueError(f"{info.filename!r} is not an .npy array")
        if name in members:
            raise ValueError(f"it holds {name!r} twice")
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version not in _NPY_READERS:
                raise ValueError(f"{name!r} is in .npy format {version}, not 1.0 or 2.0")
            shape, _, dtype = _NPY_READERS[version](member)
        if dtype.kind not in _NUMERIC_KINDS:  # a header's dtype, so objects are refused before unpickling
            raise ValueError(f"{name!r} is a {dtype} array, not a numeric one")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: no overflow
        if nbytes > info.file_size:
            raise ValueError(
                f"{name!r} declares a {shape} {dtype} array ({nbytes} bytes) in a {info.file_size}-byte member"
            )
        total += nbytes
        if total > max_bytes:
            raise ValueError(
                f"its arrays hold more than max_bytes={max_bytes} bytes; pass a larger max_bytes to load it"
            )
        members[name] = info
    return members
