"""Embedding lookup, as PyTorch's F.embedding: rows of a weight matrix picked by integer indices."""

import numpy as np

from .engine import Function, OpError, Tensor, _data, mark_written, no_grad
from .ops.indexing import IndexAdd


class Embedding(Function):
    """weight[indices]: indices of any shape pick rows of weight (num, dim); out has shape
    indices.shape + (dim,). A row's gradient is the sum of the gradients of every place that picked
    it, none for `padding_idx`, each divided by how often its index occurs in the batch with
    `scale_grad_by_freq`."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.shape, scale = weight.shape, ()
        if padding_idx is not None or scale_grad_by_freq:  # each place's share of its gradient
            scale = np.ones(indices.shape, weight.dtype)
            if padding_idx is not None:
                scale[indices == padding_idx] = 0
            if scale_grad_by_freq:
                scale /= np.bincount(indices.ravel(), minlength=len(weight))[indices]
            scale = (scale[..., None],)
        ctx.save_for_backward(indices, *scale)
        return weight.take(indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        indices, *scale = ctx.saved_tensors
        return IndexAdd.on(grad * scale[0] if scale else grad, shape=ctx.shape, index=indices), None


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,  # noqa: A002
    sparse=False,
    layer="embedding",
):
    """The rows of `weight` (num_embeddings, dim) at the integer `input` indices. `padding_idx`'s row
    gets no gradient. With `max_norm`, each row looked up whose `norm_type`-norm exceeds it is first
    scaled down to that norm, in place (as PyTorch)."""
    indices, weight = np.asarray(_data(input)), weight if isinstance(weight, Tensor) else Tensor(weight)
    if indices.dtype.kind not in "iu":
        raise OpError(f"{layer}: indices must be integers, got {indices.dtype}")
    if weight.ndim != 2:
        raise OpError(f"{layer}: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if sparse:
        raise NotImplementedError(f"{layer}: sparse gradients are not supported; use sparse=False")
    if indices.size and (indices.min() < 0 or indices.max() >= len(weight)):
        raise IndexError(
            f"{layer}: index out of range: indices from {indices.min()} to {indices.max()} for {len(weight)} embeddings"
        )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += len(weight)
    if max_norm is not None:
        _renormalize(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq)


@no_grad()
def _renormalize(weight, indices, max_norm, norm_type):
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1)
    large = norms > max_norm
    if large.any():
        weight.data[rows[large]] *= (max_norm / (norms[large] + 1e-7))[:, None].astype(weight.dtype)
        mark_written(weight.data)
