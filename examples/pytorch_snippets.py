"""PyTorch code that runs unchanged on tinygrad_es.

Each snippet below is written for PyTorch and receives the framework as its arguments `torch` and
`F` (torch.nn.functional): here it runs with `tinygrad_es` and `tinygrad_es.functional`, and, when
PyTorch is installed, with PyTorch too, and the two results (values and gradients) are compared.
"""

import math

import numpy as np

import tinygrad_es
import tinygrad_es.functional

try:
    import torch as real_torch
except ImportError:  # the snippets still run on tinygrad_es; there is nothing to compare with
    real_torch = None


def causal_attention(torch, F):
    """Scaled dot-product attention with a causal mask: matmul, transpose, masked_fill, softmax(dim=)."""
    T, d = 4, 3
    x = torch.linspace(-1, 1, T * d).reshape(T, d).requires_grad_()
    q, k, v = x * 0.5, x.flip(0), x.roll(1, dims=0)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    mask = torch.triu(torch.ones(T, T), diagonal=1).bool()
    weights = scores.masked_fill(mask, float("-inf")).softmax(dim=-1)
    out = weights @ v
    out.pow(2).sum().backward()
    return out, x.grad


def top_k_accuracy(torch, F):
    """Top-k accuracy: topk(dim=), eq, view, expand_as, any, float, mean."""
    logits = torch.arange(24, dtype=torch.float32).reshape(4, 6).sin()
    target = torch.tensor([1, 2, 0, 3])
    _, predicted = logits.topk(2, dim=1)
    correct = predicted.eq(target.view(-1, 1).expand_as(predicted))
    return correct.any(dim=1).float().mean(), predicted


def picked_log_probabilities(torch, F):
    """Negative log-likelihood by hand: log_softmax, gather, unsqueeze, squeeze, and F.cross_entropy."""
    logits = torch.arange(12, dtype=torch.float32).reshape(3, 4).cos().requires_grad_()
    target = torch.tensor([2, 0, 3])
    log_probs = F.log_softmax(logits, dim=-1)
    by_hand = -log_probs.gather(1, target.unsqueeze(1)).squeeze(1).mean()
    builtin = F.cross_entropy(logits, target)
    by_hand.backward()
    return by_hand, builtin, logits.grad


def cosine_similarities(torch, F):
    """Pairwise cosine similarity of two sets of vectors: F.normalize(dim=), t(), einsum, max(dim=)."""
    a = torch.arange(6, dtype=torch.float64).reshape(2, 3).sin().requires_grad_()
    b = torch.arange(9, dtype=torch.float64).reshape(3, 3).cos()
    similarity = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    same = torch.einsum("ik,jk->ij", F.normalize(a, dim=1), F.normalize(b, dim=1))
    best, where = similarity.max(dim=1)
    best.sum().backward()
    return similarity, same, best, where, a.grad


def pieces_and_reductions(torch, F):
    """split, chunk, cat, stack, where, clamp, norm(dim=, keepdim=), cumsum, logsumexp, pad."""
    x = torch.arange(-6, 6, dtype=torch.float32).reshape(3, 4).requires_grad_()
    left, right = x.split(2, dim=1)
    top, bottom = x.chunk(2, dim=0)
    joined = torch.cat([right, left], dim=1) + torch.stack([x.sum(dim=1)] * 4, dim=1)
    positive = torch.where(x > 0, x, torch.zeros_like(x)).clamp(max=4)
    scaled = x / x.norm(dim=1, keepdim=True)
    padded = F.pad(x, (1, 1), mode="reflect")
    total = joined.sum() + positive.sum() + scaled.cumsum(dim=0).sum() + x.logsumexp(dim=1).sum() + padded.sum()
    total.backward()
    return total, top.shape, bottom.shape, x.grad


def initialization_in_place(torch, F):
    """Filling parameters in place under no_grad, as an initializer does: zero_, fill_, copy_, add_."""
    weight = torch.empty(2, 3, requires_grad=True)
    bias = torch.empty(3, requires_grad=True)
    with torch.no_grad():
        weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3))
        weight.mul_(0.5).add_(1)
        bias.zero_()
        bias.fill_(0.25)
    loss = (torch.ones(4, 2) @ weight + bias).square().mean()
    loss.backward()
    return weight, bias, weight.grad, bias.grad


SNIPPETS = [
    causal_attention,
    top_k_accuracy,
    picked_log_probabilities,
    cosine_similarities,
    pieces_and_reductions,
    initialization_in_place,
]


def as_array(value):
    """A result of either framework (a tensor, a number, a shape) as a float NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=float)


def main():
    for snippet in SNIPPETS:
        ours = [as_array(v) for v in snippet(tinygrad_es, tinygrad_es.functional)]
        print(f"{snippet.__name__}: {snippet.__doc__.splitlines()[0]}")
        print("  " + "; ".join(np.array2string(v, precision=4, separator=", ").replace("\n", "") for v in ours[:2]))
        if real_torch is not None:
            theirs = [as_array(v) for v in snippet(real_torch, real_torch.nn.functional)]
            same = len(ours) == len(theirs) and all(
                o.shape == t.shape and np.allclose(o, t, rtol=1e-5, atol=1e-6) for o, t in zip(ours, theirs)
            )
            print("  same as PyTorch" if same else "  DIFFERENT from PyTorch")


if __name__ == "__main__":
    main()
