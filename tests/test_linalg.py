"""Products (mm, bmm, dot, outer, inner, tensordot, einsum) and tg.linalg's norms as PyTorch's:
values, gradients, errors; second derivatives against finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import check_gradients, same_as_torch, torch

import tinygrad_es as tg

values = st.floats(-2, 2, width=64)


def matrix(shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


@given(n=st.integers(0, 3), m=st.integers(0, 3), p=st.integers(0, 3), b=st.integers(1, 2))
def test_mm_bmm_dot_outer_as_torch(n, m, p, b):
    x, y = matrix((n, m)), matrix((m, p), 1)
    same_as_torch(tg.mm, torch.mm, x, y)
    same_as_torch(lambda u, v: u.mm(v), lambda u, v: u.mm(v), x, y)
    same_as_torch(tg.bmm, torch.bmm, matrix((b, n, m)), matrix((b, m, p), 1))
    same_as_torch(tg.dot, torch.dot, matrix((m,)), matrix((m,), 1))
    same_as_torch(tg.outer, torch.outer, matrix((n,)), matrix((p,), 1))


def test_products_are_differentiable_twice():
    check_gradients(tg.mm, matrix((2, 3)), matrix((3, 2), 1))
    check_gradients(tg.bmm, matrix((2, 2, 3)), matrix((2, 3, 1), 1))
    check_gradients(tg.dot, matrix((3,)), matrix((3,), 1))
    check_gradients(tg.outer, matrix((3,)), matrix((2,), 1))
    check_gradients(tg.inner, matrix((2, 3)), matrix((3,), 1))
    check_gradients(lambda x, y: tg.tensordot(x, y, ([0, 2], [1, 0])), matrix((2, 3, 2)), matrix((2, 2, 1), 1))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tg.mm(tg.zeros(3), tg.zeros(3, 2)), "2 dimensions"),
        (lambda: tg.mm(tg.zeros(2, 3), tg.zeros(2, 2)), "cannot be multiplied"),
        (lambda: tg.bmm(tg.zeros(3, 3), tg.zeros(3, 3)), "3 dimensions"),
        (lambda: tg.bmm(tg.zeros(2, 3, 4), tg.zeros(3, 4, 1)), "batch"),
        (lambda: tg.dot(tg.zeros(3, 2), tg.zeros(3, 2)), "1 dimensions"),
        (lambda: tg.dot(tg.zeros(3), tg.zeros(2)), "inconsistent"),
        (lambda: tg.outer(tg.zeros(3, 1), tg.zeros(2)), "1 dimensions"),
        (lambda: tg.mm(tg.zeros(2, 2), tg.zeros(2, 2, dtype=np.float64)), "dtype"),
    ],
)
def test_product_errors_are_runtime_errors_as_torch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@given(
    a_shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    b_shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
)
def test_inner_as_torch(a_shape, b_shape):
    if a_shape and b_shape and a_shape[-1] != b_shape[-1]:
        b_shape = b_shape[:-1] + a_shape[-1:]
    same_as_torch(tg.inner, torch.inner, matrix(a_shape), matrix(b_shape, 1))


@given(data=st.data())
def test_tensordot_as_torch(data):
    shared = data.draw(st.lists(st.integers(1, 3), max_size=2))
    rest_a, rest_b = (data.draw(st.lists(st.integers(0, 3), max_size=2)) for _ in range(2))
    a, b = matrix(tuple(rest_a + shared)), matrix(tuple(shared + rest_b), 1)
    same_as_torch(lambda x, y: tg.tensordot(x, y, len(shared)), lambda x, y: torch.tensordot(x, y, len(shared)), a, b)
    axes = (list(range(len(rest_a), a.ndim)), list(range(len(shared))))
    same_as_torch(lambda x, y: tg.tensordot(x, y, axes), lambda x, y: torch.tensordot(x, y, axes), a, b)


EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...i,...i", [(2, 3), (3,)]),
    ("...->", [(2, 3)]),  # an ellipsis left out of the output is summed (NumPy alone refuses it)
    ("i...->i", [(2, 3)]),
    ("ba,Ab", [(2, 3), (4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ijk,ikj->k", [(2, 3, 3), (2, 3, 3)]),
    ("i->", [(0,)]),
    ("ij ,  jk  ->  ik", [(2, 0), (0, 3)]),
]


@pytest.mark.parametrize("equation, operand_shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_as_torch_and_differentiable_twice(equation, operand_shapes):
    operands = [matrix(s, i) for i, s in enumerate(operand_shapes)]
    same_as_torch(lambda *xs: tg.einsum(equation, *xs), lambda *xs: torch.einsum(equation, *xs), *operands)
    same_as_torch(
        lambda *xs: tg.einsum(equation, list(xs)),
        lambda *xs: torch.einsum(equation, list(xs)),
        *(o.astype(np.float32) for o in operands),
        rtol=1e-5,
        atol=1e-6,
    )
    check_gradients(lambda *xs: tg.einsum(equation, *xs), *operands)


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="operands"):
        tg.einsum("ij,jk->ik", tg.zeros(2, 2))
    with pytest.raises(RuntimeError):
        tg.einsum("ij,jk->ik", tg.zeros(2, 3), tg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        tg.einsum("i,i", tg.zeros(2), tg.zeros(2, dtype=np.float64))


# ---- tg.linalg ------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord_", [None, "fro", 1, -1, math.inf, -math.inf])
@given(shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3), keepdim=st.booleans())
def test_linalg_matrix_norms_as_torch(ord_, shape, keepdim):
    a = matrix(shape)
    dim = (-2, -1) if len(shape) == 3 else None
    same_as_torch(
        lambda x: tg.linalg.norm(x, ord_, dim, keepdim), lambda x: torch.linalg.norm(x, ord_, dim, keepdim), a
    )
    if ord_ is not None:
        same_as_torch(
            lambda x: tg.linalg.matrix_norm(x, ord_, keepdim=keepdim),
            lambda x: torch.linalg.matrix_norm(x, ord_, keepdim=keepdim),
            a,
        )


@pytest.mark.parametrize("ord_", [None, 1, 2, 3, math.inf, -math.inf, 0])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), keepdim=st.booleans())
def test_linalg_vector_norms_as_torch(ord_, shape, keepdim):
    a = matrix(shape)
    same_as_torch(lambda x: tg.linalg.norm(x, ord_, -1, keepdim), lambda x: torch.linalg.norm(x, ord_, -1, keepdim), a)
    same_as_torch(
        lambda x: tg.linalg.vector_norm(x, ord_ or 2, keepdim=keepdim),
        lambda x: torch.linalg.vector_norm(x, ord_ or 2, keepdim=keepdim),
        a,
    )


@settings(max_examples=5)
@given(ord_=st.sampled_from(["fro", 1, -1, math.inf, -math.inf]))
def test_linalg_matrix_norms_are_differentiable_twice(ord_):
    check_gradients(lambda x: tg.linalg.norm(x, ord_), matrix((2, 3)))


def test_linalg_norm_refuses_what_it_does_not_compute():
    with pytest.raises(RuntimeError, match="singular values"):
        tg.linalg.norm(tg.zeros(2, 2), "nuc")
    with pytest.raises(RuntimeError, match="matrix norm"):
        tg.linalg.norm(tg.zeros(3), "fro")
