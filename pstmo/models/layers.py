"""Transformer building blocks shared by P-STMO's SEM, TEM, MOFA, heads and the MPM decoder.

Everything here reproduces the official P-STMO code (itself derived from the Annotated
Transformer and the Strided Transformer of Li et al.) operation for operation, so that the
released weights give the same outputs (see /work/shared/reference/pstmo_architecture.md):

- ``OfficialLayerNorm``: ``a * (x - mean) / (std + 1e-6) + b`` with the *unbiased* std.
- ``MultiHeadAttention``: four ``Linear(C, C)`` (q, k, v, proj), softmax(QK^T / sqrt(d_k)) V.
- ``TransformerLayer``: pre-LN ``x + Dropout(MHA(LN(x)))`` then ``x + Dropout(FFN(LN(x)))``;
  with ``stride`` set it is a *strided* layer (MOFA): the FFN is
  ``Conv1d(C, H, 1) -> ReLU -> Dropout -> Conv1d(H, C, 3, stride=s, padding=1)`` and the
  residual of that sublayer is the input subsampled by ``s`` (``x[:, ::s]``).
- ``TransformerEncoder``: a stack of layers with optional learnable positional embeddings.

Shapes: tokens are ``(B, T, C)`` (batch, tokens = frames, channels), and they stay in that
layout everywhere. The official code writes its per-frame MLPs and heads as ``Conv1d`` and
``BatchNorm1d`` on channels-first ``(B, C, T)`` data; ``TokenConv1d`` and ``TokenBatchNorm1d``
are those very modules (same parameters and state-dict names) applied to token-major data, so
the model never copies between the two layouts and every 1x1 convolution is one matrix
product. ``Dropout`` is ``nn.Dropout`` with a faster way to draw the same random mask on CPU.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from pstmo.models.config import ATTENTIONS as ATTENTION_KINDS


class LiftOutput(NamedTuple):
    """Output of a lifting model: ``center (B, 1, J, 3)``, multi-frame ``frames (B, N, J, 3) | None``."""

    center: torch.Tensor
    frames: torch.Tensor | None


def dropout_positions(numel: int, p: float, device: torch.device | str | None = None) -> torch.Tensor:
    """Sorted flat indices of the entries a dropout of rate ``p`` zeroes in a tensor of ``numel`` entries.

    Every entry is dropped independently with probability ``p``, exactly as in ``nn.Dropout``,
    but the draw is made from the *gaps* between dropped entries: in a Bernoulli(p) sequence the
    distance from one dropped entry to the next is Geometric(p), ``floor(E) + 1`` with ``E``
    exponential of rate ``-log(1 - p)``. That takes about ``p * numel`` random numbers instead of
    ``numel`` (torch's CPU generator is serial and slow; one draw per entry costs more than a
    matrix product in a P-STMO training step). Uses torch's default generator.
    """
    rate = -math.log1p(-p)  # Exponential(rate) rounded down, plus one, is Geometric(p)
    chunks, start = [torch.empty(0, dtype=torch.int64, device=device)], 0  # start: first index not covered
    while start < numel:
        expected = (numel - start) * p
        count = int(expected + 6.0 * math.sqrt(expected) + 16)  # rarely too few: then loop again
        gaps = torch.empty(count, dtype=torch.float64, device=device).exponential_(rate).floor_().add_(1.0)
        positions = gaps.cumsum_(0).to(torch.int64).add_(start - 1)
        start = int(positions[-1]) + 1
        chunks.append(positions[: int(torch.searchsorted(positions, numel))])
    return torch.cat(chunks) if len(chunks) > 2 else chunks[-1]


class _DropPositions(torch.autograd.Function):
    """``y = x * scale`` with the flat entries ``positions`` set to 0; the gradient likewise."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, positions: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.save_for_backward(positions)
        ctx.scale = scale
        y = x.contiguous() * scale
        return y.view(-1).index_fill_(0, positions, 0.0).view(y.shape)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (positions,) = ctx.saved_tensors
        g = grad.contiguous() * ctx.scale
        return g.view(-1).index_fill_(0, positions, 0.0).view(g.shape), None, None


class Dropout(nn.Dropout):
    """``nn.Dropout`` that draws its CPU training mask with :func:`dropout_positions` (same distribution).

    Elsewhere (GPU, ``torch.compile``, ``inplace``) it is exactly ``nn.Dropout``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu" or self.p >= 1.0 or self.inplace or torch.compiler.is_compiling():
            return super().forward(x)
        positions = dropout_positions(x.numel(), self.p, x.device)
        return _DropPositions.apply(x, positions, 1.0 / (1.0 - self.p))


class TokenConv1d(nn.Conv1d):
    """``nn.Conv1d`` applied to token-major data: ``(B, T, C_in) -> (B, T', C_out)``.

    Same parameters (``weight (C_out, C_in, k)``, ``bias``) and output as
    ``conv(x.transpose(1, 2)).transpose(1, 2)``. A 1x1 convolution is one ``F.linear``; a
    kernel-k convolution is ``F.linear`` on the zero-padded windows of k tokens (when stride
    equals k, as in MOFA, the windows do not overlap and are a plain reshape).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (k,), (s,), (p,) = self.kernel_size, self.stride, self.padding
        if k == 1 and s == 1 and p == 0:
            return F.linear(x, self.weight[:, :, 0], self.bias)
        B, T, C = x.shape
        if p:
            x = F.pad(x, (0, 0, p, p))  # zero tokens on both ends
        t_out = (T + 2 * p - k) // s + 1
        if s == k:
            windows = x[:, : t_out * k].reshape(B, t_out, k * C)  # (B, T', k C), token-major windows
        else:
            windows = x.unfold(1, k, s).transpose(2, 3).reshape(B, t_out, k * C)
        weight = self.weight.permute(0, 2, 1).reshape(self.out_channels, k * C)  # (C_out, k C_in)
        return F.linear(windows, weight, self.bias)


class TokenBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` over the channels of token-major data ``(B, T, C) -> (B, T, C)``.

    Statistics over all ``B * T`` tokens, exactly as the channels-first module computes them.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).view(x.shape)


class _OfficialLayerNormFunction(torch.autograd.Function):
    """``w * (x - mean) / (std + eps) + b`` over the last dim (unbiased std) with a hand-written backward.

    With ``n = x - mean``, ``s = std + eps``, ``y = n / s`` and ``gy = grad * w`` (C channels):
    ``dx = (gy - mean(gy) - y * sum(gy * y) * s / (std (C - 1))) / s``; ``dw = sum(grad * y)``,
    ``db = sum(grad)`` over the tokens. Autograd through mean/std/sub/div takes about three
    times as many passes over the activations.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
        centred = x - x.mean(-1, keepdim=True)
        std = torch.linalg.vector_norm(centred, dim=-1, keepdim=True) / math.sqrt(x.shape[-1] - 1)
        inv = 1.0 / (std + eps)
        y = centred.mul_(inv)
        ctx.save_for_backward(y, weight, inv, std)
        return torch.addcmul(bias, y, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        y, weight, inv, std = ctx.saved_tensors
        dims = tuple(range(grad.dim() - 1))
        grad_w = (grad * y).sum(dims) if ctx.needs_input_grad[1] else None
        grad_b = grad.sum(dims) if ctx.needs_input_grad[2] else None
        gy = grad * weight
        coef = (gy * y).sum(-1, keepdim=True) / (inv * std * (y.shape[-1] - 1))
        grad_x = (gy - gy.mean(-1, keepdim=True) - y * coef).mul_(inv)
        return grad_x, grad_w, grad_b, None


class OfficialLayerNorm(nn.Module):
    """The official LayerNorm: ``weight * (x - mean) / (std + eps) + bias`` over the last dim.

    Differs from ``torch.nn.LayerNorm`` in two ways that matter for exact equivalence: the
    standard deviation is the unbiased one (``x.std``) and ``eps`` is added to the std, not
    to the variance. Official parameter names ``a_2`` / ``b_2`` map to ``weight`` / ``bias``.
    Computed by ``_OfficialLayerNormFunction`` (fewer passes, same values and gradients).
    """

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _OfficialLayerNormFunction.apply(x, self.weight, self.bias, self.eps)


def reference_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    dropout: nn.Module | None = None,
    causal: bool = False,
) -> torch.Tensor:
    """Explicit ``softmax(q k^T / sqrt(d_k)) v`` on ``(B, h, T, d_k)`` tensors (the official path).

    ``dropout`` is applied to the attention probabilities; with ``causal`` a query at position
    ``i`` sees keys at positions ``<= i`` only (LiftFormer's causal mode). The scale is applied
    to ``q`` (T d_k entries) rather than to the scores (T^2 entries): same values.
    """
    scores = (q / math.sqrt(q.size(-1))) @ k.transpose(-2, -1)
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    attn = scores.softmax(dim=-1)
    if dropout is not None:
        attn = dropout(attn)
    return attn @ v


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention ``(B, T, C) -> (B, T, C)`` with ``heads`` heads of ``C / heads``.

    ``attention="reference"`` is the official computation, the explicit softmax of
    :func:`reference_attention` with dropout on the attention probabilities.
    ``attention="sdpa"`` (default) uses ``torch.nn.functional.scaled_dot_product_attention``,
    except when training with attention dropout on CPU, where torch's fused kernel has no
    dropout and falls back to a slower generic one: then it is the explicit softmax too. All
    give the same output. The attribute
    ``attention`` is read at every call, so it can be switched at run time.
    ``forward(x, causal=True)`` masks future tokens (LiftFormer's causal mode). The parameter
    count, ``4 C^2 + 4 C``, does not depend on ``heads``.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.1, attention: str = "sdpa"):
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"channel {dim} must be divisible by heads {heads}")
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}")
        self.heads = heads
        self.attention = attention
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = Dropout(dropout)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (
            lin(x).view(B, T, self.heads, C // self.heads).transpose(1, 2) for lin in (self.q, self.k, self.v)
        )  # (B, h, T, d_k)
        p = self.attn_drop.p if self.training else 0.0
        if self.attention == "reference" or (p > 0.0 and x.device.type == "cpu"):
            y = reference_attention(
                q, k, v, self.attn_drop, causal=causal
            )  # the fused CPU kernel has no dropout
        else:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=causal)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class FeedForward(nn.Module):
    """Position-wise FFN ``Linear(C, H) -> ReLU -> Dropout -> Linear(H, C)`` on ``(B, T, C)``."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.1):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class StridedFeedForward(nn.Module):
    """MOFA's FFN: ``Conv1d(C, H, 1) -> ReLU -> Dropout -> Conv1d(H, C, 3, stride, padding=1)``.

    ``(B, T, C) -> (B, ceil(T / stride), C)``: each output token aggregates 3 neighbouring
    frames (the strided temporal convolution of TCN / Strided Transformer).
    """

    def __init__(self, dim: int, hidden: int, stride: int, dropout: float = 0.1):
        super().__init__()
        self.fc1 = TokenConv1d(dim, hidden, kernel_size=1)
        self.fc2 = TokenConv1d(hidden, dim, kernel_size=3, stride=stride, padding=1)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class TransformerLayer(nn.Module):
    """One pre-LN encoder layer ``(B, T, C) -> (B, T / stride, C)``.

    ``stride=None``: the vanilla layer of TEM / the MPM decoder (Linear FFN).
    ``stride=s``: a Strided Transformer layer of MOFA (Conv1d FFN, residual ``x[:, ::s]``).
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        heads: int,
        dropout: float = 0.1,
        attention: str = "sdpa",
        stride: int | None = None,
    ):
        super().__init__()
        self.stride = stride
        self.attn_norm = OfficialLayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout, attention)
        self.ffn_norm = OfficialLayerNorm(dim)
        if stride is None:
            self.ffn: nn.Module = FeedForward(dim, hidden, dropout)
        else:
            self.ffn = StridedFeedForward(dim, hidden, stride, dropout)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.attn_norm(x)))
        residual = x if not self.stride or self.stride == 1 else x[:, :: self.stride]
        return residual + self.drop(self.ffn(self.ffn_norm(x)))


class TransformerEncoder(nn.Module):
    """A stack of ``TransformerLayer`` ``(B, T, C) -> (B, T', C)``.

    ``pos_embeds``: number of learnable positional embeddings ``(1, max_len, C)``; embedding
    ``i`` is added (sliced to the current length) before layer ``i``. TEM has 1 (P-STMO's
    ``Transformer.pos_embedding``), MOFA 3 (``pos_embedding_1..3``), the MPM decoder 0.
    ``final_norm`` is built but never applied, exactly like the official code (the released
    checkpoints contain it); it keeps the state dict one-to-one with the official one.
    """

    def __init__(
        self,
        layers: int,
        dim: int,
        hidden: int,
        heads: int,
        dropout: float = 0.1,
        attention: str = "sdpa",
        strides: tuple[int, ...] | None = None,
        pos_embeds: int = 0,
        max_len: int = 0,
    ):
        super().__init__()
        if strides is not None and len(strides) != layers:
            raise ValueError(f"{layers} layers but {len(strides)} strides {strides}")
        self.pos_embeds = nn.ParameterList(
            [nn.Parameter(torch.randn(1, max_len, dim)) for _ in range(pos_embeds)]
        )
        self.layers = nn.ModuleList(
            TransformerLayer(dim, hidden, heads, dropout, attention, None if strides is None else strides[i])
            for i in range(layers)
        )
        self.final_norm = OfficialLayerNorm(dim)  # unused, as in the official code

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """``x (B, T, C) -> (B, T', C)``. ``positions`` (``(max_len,)`` bool, T of them True): the
        positions the T tokens occupy, for the first positional embedding (MPM feeds only the
        visible frames); default the first T positions."""
        if len(self.pos_embeds) > 0:
            pos = self.pos_embeds[0]
            x = x + (pos[:, : x.shape[1]] if positions is None else pos[:, positions])
        for i, layer in enumerate(self.layers):
            if 0 < i < len(self.pos_embeds):
                x = x + self.pos_embeds[i][:, : x.shape[1]]
            x = layer(x)
        return x
