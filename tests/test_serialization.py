import io
import os
import struct
import zipfile

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


AWKWARD_KEYS = [
    "file",
    "allow_pickle",
    "args",
    "kwds",
    "compress",
    "encoder.layers.0.self_attn.in_proj_weight",
    "encoder/layers/0/weight",
    "w.npy",
    "",
    " spaced key ",
    "pesos_ñandú",
]


def test_every_string_key_round_trips_even_those_np_savez_takes_as_its_own_arguments(tmp_path):
    state = {key: np.full((2, k + 1), k, np.float32) for k, key in enumerate(AWKWARD_KEYS)}
    state["fortran"] = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    path = tmp_path / "awkward.npz"
    tg.save(state, path)
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for key, array in state.items():
        assert loaded[key].dtype == array.dtype, key
        np.testing.assert_array_equal(loaded[key], array, err_msg=key)
    with np.load(path) as archive:  # NumPy reads the same names
        assert archive.files == list(state)


def test_a_key_with_a_nul_character_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"save: 'a\\x00b': a key cannot hold a NUL character"):
        tg.save({"a\0b": np.ones(1)}, tmp_path / "nul.npz")
    assert os.listdir(tmp_path) == []


def test_a_killed_saves_temporary_file_is_replaced_by_the_next_save(tmp_path):
    leftover = tmp_path / ".ckpt.npz.tmp"  # what a save killed before its rename leaves
    leftover.write_bytes(b"half a checkpoint")
    leftover.chmod(0o600)
    tg.save({"w": np.ones(3)}, tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(tg.load(tmp_path / "ckpt.npz")["w"], np.ones(3))


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077], ids=oct)
def test_saved_file_has_the_permissions_open_gives_under_the_umask(tmp_path, umask):
    (tmp_path / ".ckpt.npz.tmp").write_bytes(b"")  # a leftover's mode must not carry over
    (tmp_path / ".ckpt.npz.tmp").chmod(0o600)
    previous = os.umask(umask)
    try:
        tg.save({"w": np.ones(3)}, tmp_path / "ckpt.npz")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(previous)
    mode = (tmp_path / "ckpt.npz").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask == (tmp_path / "plain").stat().st_mode & 0o777


def test_a_save_failing_while_writing_keeps_the_old_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        tg.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(3))
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


# ---- files from strangers: sizes are checked before anything is allocated ---------------------------------
def npy_header(shape, dtype=np.float64):
    """The bytes of an .npy file's header announcing an array of `shape`, without its data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )
    return header.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_an_npy_header_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    write_zip(path, {"w.npy": npy_header((2**34,))})  # 128 GiB announced in a 128-byte member
    assert path.stat().st_size < 400
    with pytest.raises(
        ValueError,
        match=r"bomb.npz is not a readable checkpoint .*: 'w' declares a \(17179869184,\) "
        r"float64 array \(137438953472 bytes\) in a 128-byte member",
    ):
        tg.load(path)


def test_a_zip_member_declaring_a_huge_uncompressed_size_is_refused_before_allocating(tmp_path):
    declared = 0xF000_0000  # 3.75 GiB, in a zip of a few hundred bytes
    path = tmp_path / "bomb.npz"
    write_zip(path, {"w.npy": npy_header((declared // 8 - 16,)) + bytes(64)}, zipfile.ZIP_DEFLATED)
    content = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = content.index(signature) + offset
        content[at : at + 4] = struct.pack("<I", declared)  # the uncompressed size
    path.write_bytes(bytes(content))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("w.npy").file_size == declared
    with pytest.raises(
        ValueError,
        match=rf"its members declare {declared} bytes, more than a {len(content)}-byte "
        r"archive can hold \(a zip bomb\?\)",
    ):
        tg.load(path, max_bytes=2**40)  # even when the caller allows that much


def test_arrays_larger_than_max_bytes_are_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"a": np.zeros(500), "b": np.zeros(500)}, path)  # 8000 bytes of arrays
    with pytest.raises(ValueError, match="its arrays hold more than max_bytes=7999 bytes; pass a larger max_bytes"):
        tg.load(path, max_bytes=7999)
    assert list(tg.load(path, max_bytes=8000)) == ["a", "b"]


def test_a_compressed_checkpoint_of_zeros_is_not_mistaken_for_a_bomb(tmp_path):
    path = tmp_path / "zeros.npz"
    with open(path, "wb") as f:
        np.savez_compressed(f, w=np.zeros(2**22, np.float32))  # 16 MiB of zeros: DEFLATE's best ratio, ~1000:1
    assert path.stat().st_size * 900 < 2**24
    np.testing.assert_array_equal(tg.load(path)["w"], np.zeros(2**22, np.float32))


@pytest.mark.parametrize(
    "members, message",
    [
        ({"w.npy": npy_header((0,)), "notes.txt": b"hello"}, "'notes.txt' is not an .npy array"),
        ({"w.npy": npy_header((2,), "<U1") + bytes(8)}, "'w' is a <U1 array, not a numeric one"),
        ({"w.npy": b"\x93NUMPY\x09\x00" + bytes(8)}, "'w' is in .npy format \\(9, 0\\), not 1.0 or 2.0"),
    ],
    ids=["not_npy", "strings", "npy_version"],
)
def test_archives_holding_anything_but_numeric_npy_arrays_are_refused(tmp_path, members, message):
    path = tmp_path / "foreign.npz"
    write_zip(path, members)
    with pytest.raises(ValueError, match=r"foreign.npz is not a readable checkpoint .*" + message):
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


def assert_unchanged(target, before):
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([["a", "b", "c"]] * 2), "dtype mismatch for 1.weight: checkpoint <U1 cannot become float64"),
        (np.ones((2, 3), complex), "dtype mismatch for 1.weight: checkpoint complex128 cannot become float64"),
        (np.full((2, 3), None), "dtype mismatch for 1.weight: checkpoint object cannot become float64"),
    ],
    ids=["strings", "complex", "objects"],
)
def test_load_state_dict_with_a_wrong_dtype_names_the_key_and_changes_nothing(bad, message):
    target = model(1)
    before = target.state_dict()
    state = {**model(0).state_dict(), "1.weight": bad}  # the good 0.* entries come first
    with pytest.raises(RuntimeError, match=message):
        target.load_state_dict(state)
    assert_unchanged(target, before)


def test_load_state_dict_lists_every_problem_at_once():
    state = {**model(0).state_dict(), "0.bias": np.zeros(4), "1.weight": np.ones((2, 3), complex)}
    with pytest.raises(RuntimeError, match=r"shape mismatch for 0.bias: .*; dtype mismatch for 1.weight"):
        model(1).load_state_dict(state)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.bool_])
def test_load_state_dict_casts_same_kind_arrays_to_the_parameter_dtype(dtype):
    target = model(1)
    state = {name: np.ones(value.shape, dtype) for name, value in target.state_dict().items()}
    target.load_state_dict(state)
    assert [p.dtype for p in target.parameters()] == [np.float32, np.float32, np.float64, np.float64]
    for p, array in zip(target.parameters(), state.values()):
        np.testing.assert_array_equal(p.data, 1)
        array[...] = 0  # the model holds a copy, not the checkpoint's memory
        np.testing.assert_array_equal(p.data, 1)


@pytest.mark.parametrize(
    "bad, dtype",
    [(np.array(["a", "b"]), "<U1"), (np.ones(2, complex), "complex128"), (np.array(["2024"], "M8[D]"), "datetime64")],
)
def test_load_refuses_non_numeric_arrays_and_names_the_key(tmp_path, bad, dtype):
    path = tmp_path / "foreign.npz"
    with open(path, "wb") as f:
        np.savez(f, w=np.ones(2), bad=bad)  # what tg.save would refuse to write
    with pytest.raises(ValueError, match=rf"foreign.npz is not a readable checkpoint .*'bad' is a {dtype}"):
        tg.load(path)


# ---- tied (shared) parameters -------------------------------------------------------------------------------
def tied_model(seed):
    rng = np.random.default_rng(seed)
    first, second = nn.Dense(3, 3, generator=rng), nn.Dense(3, 3, generator=rng)
    second.weight = first.weight
    return nn.Sequential(first, second)


def test_shared_parameter_is_in_state_dict_under_every_name_and_in_parameters_once():
    tied = tied_model(0)
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [name for name, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert len(list(tied.parameters())) == 3  # an optimizer steps the shared weight once


def test_tied_state_dict_round_trips_strictly_through_a_file(tmp_path):
    source, target = tied_model(0), tied_model(1)
    tg.save(source.state_dict(), tmp_path / "tied.npz")
    target.load_state_dict(tg.load(tmp_path / "tied.npz"))
    assert target[1].weight is target[0].weight  # still one parameter
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value, err_msg=name)


def test_tied_checkpoint_with_two_different_values_is_refused():
    target = tied_model(1)
    before = target.state_dict()
    state = tied_model(0).state_dict()
    state["1.weight"] = state["1.weight"] + 1
    with pytest.raises(RuntimeError, match="0.weight and 1.weight are one shared parameter, but .* different"):
        target.load_state_dict(state)
    assert_unchanged(target, before)


def test_tied_state_dict_has_pytorch_keys_and_loads_both_ways():
    torch = pytest.importorskip("torch")
    first, second = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    second.weight = first.weight
    theirs, ours = torch.nn.Sequential(first, second), tied_model(0)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours[1].weight.data, first.weight.detach().numpy())
