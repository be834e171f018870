"""save/load of state dicts ({name: array}) as .npz files.

The file is written next to its destination under a temporary name and then renamed over it, so
a crash never leaves half a checkpoint. Loading never unpickles (allow_pickle=False): a checkpoint
holds plain numeric arrays only.
"""
import os
import tempfile
import zipfile

import numpy as np

from .engine import Tensor

_NUMERIC_KINDS = "biuf"  # bool, int, unsigned, float: what a checkpoint holds (no complex, strings, objects)


def save(state_dict, path):
    """Write `state_dict` (e.g. model.state_dict()) to `path` as an .npz archive, atomically."""
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: state_dict keys must be strings, got {name!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"save: {name!r} is a {array.dtype} array; only numeric arrays can be saved")
        arrays[name] = array
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    """Read a state dict written by `save`: {name: array}, in the saved order."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):  # an .npy file: one array without names
            raise ValueError("it holds a single array, not a state dict")
        with archive:
            state_dict = {name: archive[name] for name in archive.files}
        for name, array in state_dict.items():
            if array.dtype.kind not in _NUMERIC_KINDS:  # np.load refuses only object arrays
                raise ValueError(f"{name!r} is a {array.dtype} array, not a numeric one")
        return state_dict
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is not a readable checkpoint (.npz of numeric arrays): {error}") from error
