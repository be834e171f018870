"""Models to ONNX and back: onnxruntime computes what tinygrad_es computes for every layer of the
table (float32, within 1e-5), at the oldest, the default and a recent opset, on any batch size,
and for the paper's MLP and the digits CNN; the file passes onnx.checker; from_onnx gives the model
back, and refuses what it cannot trust; what has no ONNX form is an error naming it."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from interop_cases import ALL, CASES, ONNX_REFUSED, example, example_input

import tinygrad_es as tg
from tinygrad_es import data, nn
from tinygrad_es import functional as F
from tinygrad_es.interop import LAYERS, from_onnx, to_onnx
from tinygrad_es.nn.activation import Activation

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

OPSETS = [17, 20, 24]


def run_ort(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def ours(model, x):
    with tg.no_grad():
        return model.eval()(tg.Tensor(x)).data


def assert_close(got, expected, tol=1e-5):
    """|got - expected| <= tol (1 + |expected|), element by element, with equal shapes and dtypes."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("name", sorted(set(ALL) - set(ONNX_REFUSED)))
def test_each_layer_runs_in_onnxruntime_as_here(name, opset, rng, tmp_path):
    make, shape = ALL[name]
    model = make(np.float32)
    x = example_input(model, shape, np.float32, rng)
    path = tmp_path / "model.onnx"
    to_onnx(model, x[:2], path, opset=opset)  # the example's batch of 2 does not fix the batch size
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == opset
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert_close(run_ort(proto, x), ours(model, x))
    back = from_onnx(path)
    assert repr(back) == repr(model)
    assert_close(ours(back, x), ours(model, x), 0)


@pytest.mark.parametrize("name", sorted(ONNX_REFUSED))
def test_what_has_no_onnx_form_is_an_error_naming_it(name, rng):
    make, shape = ALL[name]
    model = make(np.float32)
    error, message = ONNX_REFUSED[name]
    with pytest.raises(error, match=message):
        to_onnx(model, example_input(model, shape, np.float32, rng))
    with pytest.raises(error, match=message):  # inside a model too
        to_onnx(nn.Sequential(model, nn.Identity()), example_input(model, shape, np.float32, rng))


ACTIVATIONS = sorted(name for name in CASES if issubclass(LAYERS[name].cls, Activation))


@given(name=st.sampled_from(ACTIVATIONS), batch=st.integers(0, 6), seed=st.integers(0, 2**31))
def test_each_activation_after_a_dense_layer_on_any_batch(name, batch, seed):
    rng = np.random.default_rng(seed)
    activation = CASES[name][0](np.float32)
    model = nn.Sequential(
        nn.Dense(4, 6, activation=nn.PReLU(6) if name == "PReLU" else activation),
        nn.Dense(3 if name == "GLU" else 6, 2),
    )
    x = (3 * rng.standard_normal((batch, 4))).astype(np.float32)
    proto = to_onnx(model, np.zeros((1, 4), np.float32))
    assert_close(run_ort(proto, x), ours(model, x))


def test_the_exported_graph_uses_the_onnx_op_of_each_layer():
    model = nn.Sequential(
        nn.Dense(4, 6, activation="relu"),
        nn.Dropout(),
        nn.Dense(6, 6, activation=nn.RReLU()),
        nn.Dense(6, 6, activation="gelu"),
        nn.Dense(6, 6, activation="mish"),
        nn.LogSoftmax(),
    )
    x = np.zeros((1, 4), np.float32)
    ops = [node.op_type for node in to_onnx(model, x).graph.node]
    assert ops == ["Gemm", "Relu", "Gemm", "LeakyRelu", "Gemm", "Gelu", "Gemm", "Mish", "LogSoftmax"]
    assert "Dropout" not in ops
    (leaky,) = [n for n in to_onnx(model, x).graph.node if n.op_type == "LeakyRelu"]
    assert leaky.attribute[0].f == pytest.approx(11 / 48)  # RReLU's eval slope
    old = [node.op_type for node in to_onnx(model, x, opset=17).graph.node]
    assert "Erf" in old and "Gelu" not in old and "Mish" not in old  # compositions before opsets 20 and 18


def test_export_runs_in_eval_mode_and_leaves_the_modes_as_they_were():
    model = nn.Sequential(nn.Dense(4, 4), nn.Dropout(0.5))
    model[0].eval()
    to_onnx(model, np.zeros((1, 4), np.float32))
    assert [m.training for m in model.modules()] == [True, False, True]


def test_the_parameters_are_initializers_named_by_their_state_dict_keys():
    model = nn.Sequential(nn.Dense(4, 6, activation=nn.PReLU(6)), nn.Dense(6, 2, bias=False))
    names = {i.name for i in to_onnx(model, np.zeros((1, 4), np.float32)).graph.initializer}
    assert set(model.state_dict()) <= names


def test_dense_on_more_than_two_axes_is_a_matmul(rng):
    model = nn.Sequential(nn.Dense(4, 3, activation="tanh"), nn.Flatten())
    x = rng.standard_normal((5, 2, 4)).astype(np.float32)
    proto = to_onnx(model, x)
    assert [n.op_type for n in proto.graph.node][:3] == ["Transpose", "MatMul", "Add"]
    assert_close(run_ort(proto, x), ours(model, x))


# ---- the paper's MLP on the digits; fine-tuning after export ---------------------------------------
def paper_mlp(dtype=np.float32):
    tg.manual_seed(0)
    return nn.Sequential(
        nn.Dense(64, 32, activation="sigmoid", init="xavier_paper", dtype=dtype),
        nn.Dense(32, 16, activation="sigmoid", init="xavier_paper", dtype=dtype),
        nn.Dense(16, 10, init="xavier_paper", dtype=dtype),
    )


def train(model, x, y, steps=30, lr=1.0):
    optimizer = tg.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for i in range(steps):
        batch = slice(32 * i, 32 * i + 32)
        loss = F.cross_entropy(model(tg.Tensor(x[batch])), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def test_the_papers_mlp_gives_onnxruntime_our_outputs_on_every_digit(tmp_path):
    x, y = data.load_digits()
    model = paper_mlp()
    train(model, x, y)
    to_onnx(model, x[:1], tmp_path / "mlp.onnx")
    session = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    got, expected = session.run(None, {"input": x})[0], ours(model, x)
    assert_close(got, expected)
    assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_a_model_loaded_from_onnx_trains_on_here(tmp_path):
    x, y = data.load_digits()
    model = paper_mlp()
    train(model, x, y)
    to_onnx(model, x[:1], tmp_path / "mlp.onnx")
    back = from_onnx(tmp_path / "mlp.onnx")
    assert all(m.training for m in back.modules())
    state = model.state_dict()
    assert all(np.array_equal(back.state_dict()[k], state[k]) for k in state)
    assert train(back, x[960:], y[960:], 20) == pytest.approx(train(model, x[960:], y[960:], 20), rel=1e-6)


# ---- the models of examples/cnn_digits.py: the paper's MLP and the CNN with BatchNorm ------------------
EXAMPLE = example("cnn_digits")


def trained_example(name):
    """The example's model after 10 steps on the digits (BatchNorm's running statistics then differ from
    their start), and the digits as 1x8x8 images."""
    x, y = data.load_digits()
    images = x.reshape(-1, 1, 8, 8)
    tg.manual_seed(0)
    model = getattr(EXAMPLE, name)()
    train(model, images, y, steps=10, lr=0.05 if name == "cnn" else 1.0)
    return model, images, y


@pytest.mark.parametrize("name", ["cnn", "paper_mlp"])
def test_the_example_models_give_onnxruntime_our_outputs(name, rng, tmp_path):
    model, images, _ = trained_example(name)
    to_onnx(model, images[:1], tmp_path / "model.onnx")
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    noise = (3 * rng.standard_normal((50, 1, 8, 8))).astype(np.float32)
    for x in (images, noise):
        got, expected = run_ort(proto, x), ours(model, x)
        assert_close(got, expected)
        assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_the_cnns_graph_is_made_of_the_onnx_ops_of_its_layers():
    model, images, _ = trained_example("cnn")
    proto = to_onnx(model, images[:1])
    assert [n.op_type for n in proto.graph.node] == ["Conv", "BatchNormalization", "Relu", "MaxPool"] * 2 + [
        "Flatten",
        "Gemm",
    ]
    conv = proto.graph.node[0]
    assert {a.name: list(a.ints) for a in conv.attribute if a.ints} == {
        "kernel_shape": [3, 3],
        "strides": [1, 1],
        "dilations": [1, 1],
        "pads": [1, 1, 1, 1],
    }
    names = {i.name for i in proto.graph.initializer}
    assert {"1.running_mean", "1.running_var", "5.running_mean", "5.running_var"} <= names
    state = {p.key: p.value for p in proto.metadata_props}["tinygrad_es.state"]
    assert json.loads(state) == {"1.num_batches_tracked": 10, "5.num_batches_tracked": 10}  # not in the graph


def test_the_cnn_loaded_from_onnx_trains_on_here_with_its_running_statistics(tmp_path):
    model, images, y = trained_example("cnn")
    to_onnx(model, images[:1], tmp_path / "cnn.onnx")
    back = from_onnx(tmp_path / "cnn.onnx")
    assert all(m.training for m in back.modules()) and repr(back) == repr(model)
    state, restored = model.state_dict(), back.state_dict()
    assert list(state) == list(restored) and all(np.array_equal(state[k], restored[k]) for k in state)
    assert train(back, images[960:], y[960:], 10, 0.05) == pytest.approx(
        train(model, images[960:], y[960:], 10, 0.05), rel=1e-6
    )


@pytest.mark.parametrize(
    "name, ceil_mode",
    [
        ("MaxPool2d", 1),
        ("MaxPool2d ceil_mode without the last window", 0),
        ("AvgPool2d", 1),
        ("AvgPool1d ceil_mode", 1),
    ],
)
def test_ceil_mode_is_set_where_it_adds_a_window(name, ceil_mode, rng):
    make, shape = ALL[name]
    (pool,) = [n for n in to_onnx(make(np.float32), np.zeros(shape, np.float32)).graph.node if "Pool" in n.op_type]
    assert {a.name: a.i for a in pool.attribute}["ceil_mode"] == ceil_mode


@given(
    d=st.integers(1, 2),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    size=st.integers(1, 12),
    data=st.data(),
)
def test_pooling_in_onnxruntime_as_here_for_any_options(d, kernel, stride, dilation, size, data):
    padding = data.draw(st.integers(0, kernel // 2), "padding")
    ceil_mode, average = data.draw(st.booleans(), "ceil_mode"), data.draw(st.booleans(), "average")
    if average:
        options = {"count_include_pad": data.draw(st.booleans(), "count_include_pad")}
        if d == 2:
            options["divisor_override"] = data.draw(st.sampled_from([None, 3]), "divisor_override")
        layer = (nn.AvgPool1d, nn.AvgPool2d)[d - 1](kernel, stride, padding, ceil_mode, **options)
    else:
        layer = (nn.MaxPool1d, nn.MaxPool2d)[d - 1](kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    x = np.random.default_rng(size).standard_normal((3, 2, *(size, size + 1)[:d])).astype(np.float32)
    try:
        expected = ours(layer, x)
    except RuntimeError:  # no window fits: PyTorch refuses it too
        return
    try:
        proto = to_onnx(layer, x[:1])
    except ValueError as error:  # sizes where ONNX's ceil_mode differs from PyTorch's on one axis only
        assert ceil_mode and d == 2 and "ONNX's ceil_mode cannot say both" in str(error)
        return
    got = run_ort(proto, x)
    empty = np.isinf(expected)  # a dilated window that falls in the padding alone: -inf here and in PyTorch,
    assert np.all(got[empty] == np.finfo(np.float32).min)  # the lowest float in onnxruntime
    assert_close(np.where(empty, 0, got), np.where(empty, 0, expected))


def test_group_norm_is_group_normalization_from_opset_21():
    model = nn.GroupNorm(2, 4)
    ops = {
        opset: [n.op_type for n in to_onnx(model, np.zeros((1, 4, 3), np.float32), opset=opset).graph.node]
        for opset in (20, 21)
    }
    assert ops == {
        20: ["Reshape", "InstanceNormalization", "Reshape", "Reshape", "Mul", "Reshape", "Add"],
        21: ["GroupNormalization"],
    }


def test_embedding_takes_integer_indices_as_input(rng):
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Dense(12, 2))
    proto = to_onnx(model, np.zeros((1, 3), np.int64))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [n.op_type for n in proto.graph.node] == ["Gather", "Flatten", "Gemm"]
    indices = rng.integers(0, 10, (7, 3))
    assert_close(run_ort(proto, indices), ours(model, indices))


def test_float64_models_export_in_double(rng):
    model = nn.Sequential(paper_mlp(np.float64), nn.ReLU(), nn.Softmax())
    x = rng.standard_normal((7, 64))
    proto = to_onnx(model, x)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert_close(run_ort(proto, x), ours(model, x), 1e-12)


@pytest.mark.parametrize("name", sorted(set(ALL) - set(ONNX_REFUSED)))
def test_every_layer_has_a_valid_float64_graph(name, rng):
    make, shape = ALL[name]
    model = make(np.float64)
    proto = to_onnx(model, example_input(model, shape, np.float64, rng))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


# ---- what does not export, and files from_onnx does not trust ----------------------------------------
class Custom(nn.Module):
    def forward(self, x):
        return x


def test_a_layer_outside_the_table_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="Custom is not a layer that can be converted"):
        to_onnx(nn.Sequential(nn.ReLU(), Custom()), np.zeros((1, 2), np.float32))


def test_bad_arguments_are_value_errors():
    x = np.zeros((1, 2), np.float32)
    with pytest.raises(ValueError, match="opset must be an int from 17 to"):
        to_onnx(nn.ReLU(), x, opset=13)
    with pytest.raises(
        ValueError,
        match=r"float32 or float64 array \(int64 or int32 indices for an Embedding\) with "
        "a batch axis first, got a int8 array",
    ):
        to_onnx(nn.ReLU(), np.zeros((1, 2), np.int8))
    with pytest.raises(
        ValueError,
        match="ReLU takes a floating-point input, got int64 .integer inputs are the indices of a first Embedding layer",
    ):
        to_onnx(nn.ReLU(), np.zeros((1, 2), np.int64))
    with pytest.raises(
        ValueError,
        match=r"Conv2d: the ONNX graph needs a batched input \(N, C, 2 spatial axes\), got "
        r"shape \(1, 5, 5\)",
    ):
        to_onnx(nn.Conv2d(1, 2, 3), np.zeros((1, 5, 5), np.float32))  # unbatched: axis 0 would be the channels
    with pytest.raises(ValueError, match=r"Unflatten\(dim=0\) splits the batch axis, which the ONNX graph leaves free"):
        to_onnx(nn.Unflatten(0, (1, 2)), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"Softmax\(axis=None\) has no ONNX counterpart"):
        to_onnx(nn.Softmax(axis=None), x)


def test_every_layer_of_the_table_exports():
    from tinygrad_es.interop.onnx import _EMIT

    assert set(_EMIT) == set(LAYERS) - {"ModuleList", "ModuleDict"}  # no forward, no graph


def test_from_onnx_reads_a_file_with_shapes_inferred_and_saved_again(tmp_path, rng):
    model = nn.Sequential(nn.Dense(3, 4, activation="elu"), nn.Dense(4, 2))
    proto = onnx.shape_inference.infer_shapes(to_onnx(model, np.zeros((1, 3), np.float32)))
    assert len(proto.graph.value_info) > 0  # what another tool may add does not change the graph
    onnx.save(proto, tmp_path / "inferred.onnx")
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert_close(ours(from_onnx(tmp_path / "inferred.onnx"), x), ours(model, x), 0)


def test_from_onnx_refuses_a_graph_it_did_not_write(tmp_path):
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["output"])],
        "g",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 2])],
    )
    onnx.save(helper.make_model(graph), tmp_path / "other.onnx")
    with pytest.raises(ValueError, match="no 'tinygrad_es.architecture' metadata: it was not written by"):
        from_onnx(tmp_path / "other.onnx")


def test_from_onnx_refuses_a_graph_changed_after_export():
    proto = to_onnx(nn.Sequential(nn.Dense(2, 2, activation=nn.LeakyReLU(0.1))), np.zeros((1, 2), np.float32))
    proto.graph.node[1].attribute[0].f = 0.3  # another slope than the architecture says
    with pytest.raises(ValueError, match="its graph's nodes differ from what to_onnx writes"):
        from_onnx(proto)
    proto = to_onnx(nn.Dense(2, 2), np.zeros((1, 2), np.float32))
    del proto.metadata_props[:]
    onnx.helper.set_model_props(
        proto,
        {"tinygrad_es.architecture": '{"format": "tinygrad_es.model", "version": 1, "model": {"type": "Conv9d"}}'},
    )
    with pytest.raises(ValueError, match="from_onnx: the model: model: unknown layer type .Conv9d."):
        from_onnx(proto)


def test_without_onnx_the_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "tinygrad_es\[onnx\]"'):
        to_onnx(nn.ReLU(), np.zeros((1, 2), np.float32))
