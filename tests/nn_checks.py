"""Checks shared by the tests of the nn layers and their ops: against PyTorch, in any memory layout."""

import numpy as np

import tinygrad_es as tg


def layout(array, kind):
    """The same values in another memory layout: Fortran order, or a strided slice of a larger array."""
    if kind == "F":
        return np.asfortranarray(array)
    if kind == "strided":
        big = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        big[..., ::2] = array
        return big[..., ::2]
    return array


def against_torch(ours, theirs, arrays, rng, atol=1e-10):
    """Run ours on tg.Tensors and theirs on torch tensors of the same float64 arrays; compare the
    results and the gradients of every input for a random upstream gradient."""
    import torch

    tg_inputs = [tg.Tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in arrays]
    out, expected = ours(*tg_inputs), theirs(*torch_inputs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=atol)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for mine, theirs_ in zip(tg_inputs, torch_inputs):
        np.testing.assert_allclose(mine.grad.data, theirs_.grad.numpy(), rtol=1e-9, atol=atol)
    return out
