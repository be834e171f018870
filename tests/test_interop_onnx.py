"""Models to ONNX and back: onnxruntime computes what tinygrad_es computes for every layer of the
table (float32, within 1e-5), at the oldest, the default and a recent opset, on any batch size;
the file passes onnx.checker; from_onnx gives the model back, and refuses what it cannot trust."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from interop_cases import CASES

import tinygrad_es as tg
from tinygrad_es import data, nn
from tinygrad_es import functional as F
from tinygrad_es.interop import LAYERS, from_onnx, to_onnx

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
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_layer_runs_in_onnxruntime_as_here(name, opset, rng, tmp_path):
    make, shape = CASES[name]
    model = make(np.float32)
    x = (3 * rng.standard_normal(shape)).astype(np.float32)
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


@given(name=st.sampled_from(sorted(set(CASES) - {"Dense", "Sequential", "Dropout", "Flatten"})),
       batch=st.integers(0, 6), seed=st.integers(0, 2**31))
def test_each_activation_after_a_dense_layer_on_any_batch(name, batch, seed):
    rng = np.random.default_rng(seed)
    activation = CASES[name][0](np.float32)
    model = nn.Sequential(nn.Dense(4, 6, activation=nn.PReLU(6) if name == "PReLU" else activation),
                          nn.Dense(3 if name == "GLU" else 6, 2))
    x = (3 * rng.standard_normal((batch, 4))).astype(np.float32)
    proto = to_onnx(model, np.zeros((1, 4), np.float32))
    assert_close(run_ort(proto, x), ours(model, x))


def test_the_exported_graph_uses_the_onnx_op_of_each_layer():
    model = nn.Sequential(nn.Dense(4, 6, activation="relu"), nn.Dropout(), nn.Dense(6, 6, activation=nn.RReLU()),
                          nn.Dense(6, 6, activation="gelu"), nn.Dense(6, 6, activation="mish"), nn.LogSoftmax())
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
    return nn.Sequential(nn.Dense(64, 32, activation="sigmoid", init="xavier_paper", dtype=dtype),
                         nn.Dense(32, 16, activation="sigmoid", init="xavier_paper", dtype=dtype),
                         nn.Dense(16, 10, init="xavier_paper", dtype=dtype))


def train(model, x, y, steps=30):
    optimizer = tg.optim.SGD(model.parameters(), lr=1.0)
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


def test_float64_models_export_in_double(rng):
    model = nn.Sequential(paper_mlp(np.float64), nn.ReLU(), nn.Softmax())
    x = rng.standard_normal((7, 64))
    proto = to_onnx(model, x)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert_close(run_ort(proto, x), ours(model, x), 1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_layer_has_a_valid_float64_graph(name):
    make, shape = CASES[name]
    onnx.checker.check_model(to_onnx(make(np.float64), np.ones(shape)), full_check=True)


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
    with pytest.raises(ValueError, match="float32 or float64 array with a batch axis first, got a int64 array"):
        to_onnx(nn.ReLU(), np.zeros((1, 2), np.int64))
    with pytest.raises(ValueError, match=r"Softmax\(axis=None\) has no ONNX counterpart"):
        to_onnx(nn.Softmax(axis=None), x)


def test_every_layer_of_the_table_exports():
    from tinygrad_es.interop.onnx import _EMIT

    assert set(_EMIT) == set(LAYERS)


def test_from_onnx_reads_a_file_with_shapes_inferred_and_saved_again(tmp_path, rng):
    model = nn.Sequential(nn.Dense(3, 4, activation="elu"), nn.Dense(4, 2))
    proto = onnx.shape_inference.infer_shapes(to_onnx(model, np.zeros((1, 3), np.float32)))
    assert len(proto.graph.value_info) > 0  # what another tool may add does not change the graph
    onnx.save(proto, tmp_path / "inferred.onnx")
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert_close(ours(from_onnx(tmp_path / "inferred.onnx"), x), ours(model, x), 0)


def test_from_onnx_refuses_a_graph_it_did_not_write(tmp_path):
    helper = onnx.helper
    graph = helper.make_graph([helper.make_node("Relu", ["input"], ["output"])], "g",
                              [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", 2])],
                              [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 2])])
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
    onnx.helper.set_model_props(proto, {"tinygrad_es.architecture": '{"format": "tinygrad_es.model", "version": 1, '
                                        '"model": {"type": "Conv9d"}}'})
    with pytest.raises(ValueError, match="from_onnx: the model: model: unknown layer type .Conv9d."):
        from_onnx(proto)


def test_without_onnx_the_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "tinygrad_es\[onnx\]"'):
        to_onnx(nn.ReLU(), np.zeros((1, 2), np.float32))
