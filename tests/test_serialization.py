import os

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import nn


def model(seed):
    return nn.Sequential(nn.Dense(4, 3, generator=np.random.default_rng(seed)), nn.Dense(3, 2, dtype=np.float64))


def test_round_trip_restores_every_array_exactly(tmp_path):
    source = model(0)
    path = tmp_path / "model.npz"
    tg.save(source.state_dict(), path)
    loaded = tg.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    target = model(1)
    target.load_state_dict(loaded)
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b)


def test_save_overwrites_atomically_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    tg.save({"w": np.zeros(3)}, str(path))
    np.testing.assert_array_equal(tg.load(path)["w"], np.zeros(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failed_save_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    with pytest.raises(TypeError, match="save: 'bad' is a object array"):
        tg.save({"w": np.zeros(3), "bad": np.array([{}], dtype=object)}, path)
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="load: no such file: .*nothing.npz"):
        tg.load(tmp_path / "nothing.npz")


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save(model(0).state_dict(), path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match=r"load: .*ckpt.npz is not a readable checkpoint"):
        tg.load(path)


@pytest.mark.parametrize("kind", ["text", "object_array", "single_array"])
def test_foreign_files_are_refused(tmp_path, kind):
    path = tmp_path / "foreign.npz"
    if kind == "text":
        path.write_text("weights: 1 2 3\n")
    elif kind == "object_array":
        with open(path, "wb") as f:
            np.savez(f, w=np.array([{"a": 1}], dtype=object))
    else:
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    with pytest.raises(ValueError, match=r"load: .*foreign.npz is not a readable checkpoint"):
        tg.load(path)


def test_load_state_dict_with_wrong_keys_or_shapes_leaves_the_model_unchanged(tmp_path):
    target = model(1)
    before = target.state_dict()
    state = model(0).state_dict()
    wrong_shape = {**state, "1.weight": np.zeros((5, 3))}
    wrong_keys = {("x." + k): v for k, v in state.items()}
    for bad, message in [(wrong_shape, r"shape mismatch for 1.weight"), (wrong_keys, "missing keys")]:
        tg.save(bad, tmp_path / "bad.npz")
        with pytest.raises(RuntimeError, match=message):
            target.load_state_dict(tg.load(tmp_path / "bad.npz"))
        for name, value in target.state_dict().items():
            np.testing.assert_array_equal(value, before[name])
