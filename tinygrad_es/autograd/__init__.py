"""torch.autograd's entry points: `grad` returns gradients without touching `.grad`, `backward`
accumulates them for several outputs at once."""

from ..engine import backward, grad  # noqa: F401  (re-exported)
