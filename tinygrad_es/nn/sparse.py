"""Embedding: a table of learned vectors looked up by integer index, as PyTorch's nn.Embedding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..embedding import embedding
from ..engine import Tensor, mark_written
from . import init as nn_init
from .module import Module, Parameter

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11


class Embedding(Module):
    """`weight` (num_embeddings, embedding_dim) ~ N(0, 1), as PyTorch; `layer(indices)` has shape
    indices.shape + (embedding_dim,). The row of `padding_idx` (negative counts from the end) starts
    at zeros and gets no gradient. `max_norm` scales down, in place, each looked-up row whose
    `norm_type`-norm exceeds it; `scale_grad_by_freq` divides each row's gradient by how often its
    index occurs in the batch. Float32 unless `dtype` says."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: npt.ArrayLike | None = None,
        _freeze: bool = False,
        dtype: npt.DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:  # PyTorch asserts it
                raise AssertionError(
                    f"Embedding: padding_idx ({padding_idx}) must be within num_embeddings ({num_embeddings})"
                )
            padding_idx %= num_embeddings
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported; use sparse=False")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.sparse = max_norm, norm_type, sparse
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype), requires_grad=not _freeze)
            self.reset_parameters(generator)
        else:
            weight = np.asarray(_weight.data if isinstance(_weight, Tensor) else _weight)
            if weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {weight.shape}, expected ({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(weight, requires_grad=not _freeze)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        nn_init.normal(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0
            mark_written(self.weight.data)

    @classmethod
    def from_pretrained(
        cls,
        embeddings: npt.ArrayLike,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Self:
        """An Embedding holding `embeddings` (2-D, its memory shared); frozen (no gradient) unless freeze=False."""
        data = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}")
        num_embeddings, embedding_dim = data.shape
        return cls(
            num_embeddings,
            embedding_dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=data,
            _freeze=freeze,
        )

    def forward(self, indices: Tensor | npt.ArrayLike) -> Tensor:
        return embedding(
            indices,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        return text
