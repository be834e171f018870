"""A model saved with its architecture (save_model: .npz + .json) comes back the same from
load_model; a file that does not describe a model is a ValueError naming the bad entry; and the
`tinygrad-es export` command turns such a checkpoint into ONNX or PyTorch."""

import json

import numpy as np
import pytest
from interop_cases import ALL, example, example_input

import tinygrad_es as tg
from tinygrad_es import nn
from tinygrad_es.cli import main
from tinygrad_es.interop import build, describe, load_model, save_model


def call(model, x):
    """model(x); a ModuleList or ModuleDict (no forward) applies its entries in turn."""
    if isinstance(model, (nn.ModuleList, nn.ModuleDict)):
        for child in model._modules.values():
            x = call(child, x)
        return x
    out = model(x)
    return out[0] if isinstance(out, tuple) else out  # MaxPool's values, without the indices


def same_model(a, b, x):
    assert repr(a) == repr(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and all(np.array_equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)
    with tg.no_grad():
        np.testing.assert_array_equal(call(a.eval(), tg.Tensor(x)).data, call(b.eval(), tg.Tensor(x)).data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_every_layer_comes_back_from_its_files(name, dtype, tmp_path, rng):
    make, shape = ALL[name]
    model = make(dtype)
    save_model(model, tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.npz"]
    back = load_model(tmp_path / "model.npz")
    assert [m.training for m in back.modules()] == [True] * len(list(back.modules()))  # as any new model
    same_model(back, model, example_input(model, shape, dtype, rng))


def test_the_json_file_is_the_documented_format(tmp_path):
    model = nn.Sequential(nn.Dense(64, 32, activation="sigmoid"), nn.Dense(32, 10, bias=False, dtype=np.float64))
    save_model(model, tmp_path / "mlp.json")
    assert json.loads((tmp_path / "mlp.json").read_text()) == {
        "format": "tinygrad_es.model",
        "version": 1,
        "model": {
            "type": "Sequential",
            "children": {
                "0": {
                    "type": "Dense",
                    "in_features": 64,
                    "out_features": 32,
                    "bias": True,
                    "dtype": "float32",
                    "activation": {"type": "Sigmoid"},
                },
                "1": {
                    "type": "Dense",
                    "in_features": 32,
                    "out_features": 10,
                    "bias": False,
                    "dtype": "float64",
                    "activation": None,
                },
            },
        },
    }
    assert set(tg.load(tmp_path / "mlp.npz")) == {"0.weight", "0.bias", "1.weight"}


def test_names_of_a_sliced_sequential_and_shared_modules_come_back(tmp_path, rng):
    dense = nn.Dense(4, 4)
    model = nn.Sequential(nn.ReLU(), dense, nn.Tanh(), dense)[1:]  # children "1", "2", "3"
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert list(back._modules) == ["1", "2", "3"] and back[0] is back[2]
    assert describe(model)["children"]["3"] == {"same_as": "1"}
    same_model(back, model, rng.standard_normal((2, 4)).astype(np.float32))


GOOD = {"type": "Dense", "in_features": 2, "out_features": 3, "bias": True, "dtype": "float32", "activation": None}


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"type": "Conv9d"},
            "model: unknown layer type 'Conv9d'; known types: AdaptiveAvgPool1d, AdaptiveAvgPool2d, "
            "AlphaDropout, AvgPool1d",
        ),
        ({"in_features": 2}, "model: unknown layer type None"),
        ([1, 2], r"model: a layer is a JSON object, got \[1, 2\]"),
        (
            {**GOOD, "units": 3},
            "model: Dense takes options activation, bias, dtype, in_features, out_features; unknown units",
        ),
        ({k: v for k, v in GOOD.items() if k != "bias"}, "model: Dense takes options .*; missing bias"),
        ({**GOOD, "dtype": "int8"}, "model.dtype: 'int8' is not one of float32, float64"),
        ({**GOOD, "in_features": {"a": 1}}, r"model.in_features: \{\"a\": 1\} is not an option value"),
        ({**GOOD, "activation": {"type": "Relu"}}, "model.activation: unknown layer type 'Relu'"),
        (
            {"type": "Sequential", "children": {"0": GOOD, "1": {"type": "Dropout", "p": 2}}},
            r"model.children.1: Dropout: Dropout: p must be in \[0, 1\], got 2",
        ),
        (
            {"type": "Sequential", "children": {"0": {"same_as": "5"}}},
            "model.children.0: same_as must be alone and name",
        ),
        ({"type": "Sequential", "children": [GOOD]}, "model.children: an object of named layers"),
        ({"type": "Softplus", "beta": 1}, "model: Softplus takes options beta, threshold; missing threshold"),
        (
            {
                "type": "Conv1d",
                "in_channels": 1,
                "out_channels": 1,
                "kernel_size": [3],
                "stride": [1],
                "padding": [1],
                "dilation": [1],
                "groups": 1,
                "bias": True,
                "padding_mode": "reflect",
                "dtype": "float32",
            },
            "model: Conv1d: Conv1d: padding_mode='reflect' is not supported, only 'zeros'",
        ),
        (
            {
                "type": "Embedding",
                "num_embeddings": 4,
                "embedding_dim": 2,
                "padding_idx": 7,
                "max_norm": None,
                "norm_type": 2.0,
                "scale_grad_by_freq": False,
                "sparse": False,
                "dtype": "float32",
            },
            r"model: Embedding: Embedding: padding_idx \(7\) must be within num_embeddings \(4\)",
        ),
        (
            {"type": "ModuleList", "children": {"0": {"type": "Sigmoid"}}, "values": []},
            "model: ModuleList takes options children; unknown values",
        ),
    ],
)
def test_a_bad_entry_is_a_value_error_naming_it(entry, message):
    with pytest.raises(ValueError, match=message):
        build(entry)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "the architecture is not JSON"),
        ('{"format": "keras", "version": 1, "model": {}}', "not a tinygrad_es architecture"),
        (
            '{"format": "tinygrad_es.model", "version": 2, "model": {}}',
            "architecture version 2; this tinygrad_es reads",
        ),
        (
            '{"format": "tinygrad_es.model", "version": 1, "model": {"type": "ReLU"}, "x": 1}',
            "an architecture holds format, version and model; got format, model, version, x",
        ),
    ],
)
def test_a_bad_file_is_a_value_error_naming_it(text, message, tmp_path):
    save_model(nn.ReLU(), tmp_path / "m")
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(ValueError, match=rf"load_model: .*m\.json: {message}"):
        load_model(tmp_path / "m")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path):
    save_model(nn.Dense(2, 3), tmp_path / "m")
    tg.save(nn.Dense(3, 3).state_dict(), tmp_path / "m.npz")
    with pytest.raises(RuntimeError, match=r"shape mismatch for weight: checkpoint \(3, 3\), model \(3, 2\)"):
        load_model(tmp_path / "m")


def test_a_model_outside_the_table_cannot_be_saved(tmp_path):
    class Custom(nn.Module):
        pass

    with pytest.raises(TypeError, match="Custom is not a layer that can be converted"):
        save_model(nn.Sequential(Custom()), tmp_path / "m")


def test_the_digits_cnn_comes_back_with_its_running_statistics(tmp_path, rng):
    tg.manual_seed(0)
    model = example("cnn_digits").cnn()
    with tg.no_grad():
        model(tg.Tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32)))  # the running statistics move
    save_model(model, tmp_path / "cnn")
    described = json.loads((tmp_path / "cnn.json").read_text())["model"]["children"]
    assert described["0"] == {
        "type": "Conv2d",
        "in_channels": 1,
        "out_channels": 16,
        "kernel_size": [3, 3],
        "stride": [1, 1],
        "padding": [1, 1],
        "dilation": [1, 1],
        "groups": 1,
        "bias": False,
        "padding_mode": "zeros",
        "dtype": "float32",
    }
    assert described["1"] == {
        "type": "BatchNorm2d",
        "num_features": 16,
        "eps": 1e-5,
        "momentum": 0.1,
        "affine": True,
        "track_running_stats": True,
        "bias": True,
        "dtype": "float32",
    }
    assert described["3"] == {
        "type": "MaxPool2d",
        "kernel_size": 2,
        "stride": 2,
        "padding": 0,
        "dilation": 1,
        "return_indices": False,
        "ceil_mode": False,
    }
    back = load_model(tmp_path / "cnn")
    assert int(back[1].num_batches_tracked.data) == 1
    same_model(back, model, rng.standard_normal((4, 1, 8, 8)).astype(np.float32))


def test_containers_keep_their_entries_and_names(tmp_path):
    model = nn.ModuleDict({"encoder": nn.ModuleList([nn.Dense(3, 4), nn.ReLU()]), "head": nn.Dense(4, 2)})
    assert describe(model)["children"]["encoder"]["children"]["1"] == {"type": "ReLU"}
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert list(back.keys()) == ["encoder", "head"] and len(back["encoder"]) == 2
    assert list(back.state_dict()) == ["encoder.0.weight", "encoder.0.bias", "head.weight", "head.bias"]


# ---- the command ---------------------------------------------------------------------------------------
def saved_mlp(tmp_path):
    model = nn.Sequential(nn.Dense(64, 32, activation="sigmoid"), nn.Dense(32, 10), nn.LogSoftmax())
    save_model(model, tmp_path / "mlp")
    return model


def test_export_to_onnx_writes_what_onnxruntime_runs(tmp_path, capsys, rng):
    ort = pytest.importorskip("onnxruntime")
    model = saved_mlp(tmp_path)
    assert main(["export", str(tmp_path / "mlp"), "--to", "onnx"]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'mlp'}.onnx\n"
    x = rng.standard_normal((9, 64)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    with tg.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_export_to_torch_writes_a_module_torch_loads(tmp_path, rng):
    torch = pytest.importorskip("torch")
    model = saved_mlp(tmp_path)
    assert main(["export", str(tmp_path / "mlp.npz"), "--to", "torch", "--out", str(tmp_path / "m.pt")]) == 0
    module = torch.load(tmp_path / "m.pt", weights_only=False)
    x = rng.standard_normal((9, 64)).astype(np.float32)
    with tg.no_grad():
        np.testing.assert_allclose(
            module(torch.from_numpy(x)).detach().numpy(), model(tg.Tensor(x)).data, rtol=1e-6, atol=1e-6
        )


def test_export_of_the_digits_cnn_to_onnx_and_torch(tmp_path, rng):
    ort, torch = pytest.importorskip("onnxruntime"), pytest.importorskip("torch")
    tg.manual_seed(0)
    model = example("cnn_digits").cnn()
    with tg.no_grad():
        model(tg.Tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32)))
    save_model(model.eval(), tmp_path / "cnn")
    assert main(["export", str(tmp_path / "cnn"), "--to", "onnx", "--input-shape", "1,1,8,8"]) == 0
    assert main(["export", str(tmp_path / "cnn"), "--to", "torch"]) == 0
    x = tg.data.load_digits()[0].reshape(-1, 1, 8, 8)
    with tg.no_grad():
        expected = model(tg.Tensor(x)).data
    session = ort.InferenceSession(str(tmp_path / "cnn.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], expected, rtol=1e-5, atol=1e-5)
    module = torch.load(tmp_path / "cnn.pt", weights_only=False).eval()  # a loaded model starts in train mode
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_export_of_a_model_that_starts_with_an_embedding_takes_indices(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Dense(12, 2))
    save_model(model, tmp_path / "m")
    assert main(["export", str(tmp_path / "m"), "--to", "onnx", "--input-shape", "1,3"]) == 0
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    indices = rng.integers(0, 10, (5, 3))
    with tg.no_grad():
        np.testing.assert_allclose(
            session.run(None, {"input": indices})[0], model(tg.Tensor(indices)).data, rtol=1e-5, atol=1e-5
        )


def test_export_takes_the_input_shape_of_a_model_that_does_not_start_with_dense(tmp_path, capsys):
    pytest.importorskip("onnx")
    save_model(nn.Sequential(nn.Flatten(), nn.Dense(64, 10)), tmp_path / "m")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path / "m"), "--to", "onnx"])
    assert exit_info.value.code == 2
    assert "give the input's shape (--input-shape)" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "m"), "--to", "onnx", "--input-shape", "1,8,8"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--to", "onnx", "--input-shape", "a,b"], "not a shape: 'a,b'"),
        (["--to", "keras"], "invalid choice: 'keras'"),
        (["--to", "onnx", "--opset", "9"], "opset must be an int from 17 to"),
    ],
)
def test_bad_export_arguments_exit_2_with_one_error_line(argv, message, tmp_path, capsys):
    pytest.importorskip("onnx")
    saved_mlp(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path / "mlp"), *argv])
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]


def test_export_of_a_missing_or_bad_checkpoint_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "none"), "--to", "torch"])
    assert "none.npz (export reads what tinygrad_es.interop.save_model writes)" in capsys.readouterr().err
    saved_mlp(tmp_path)
    (tmp_path / "mlp.json").write_text('{"format": "tinygrad_es.model", "version": 1, "model": {"type": "Conv9d"}}')
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "mlp"), "--to", "torch"])
    assert "unknown layer type 'Conv9d'" in capsys.readouterr().err
