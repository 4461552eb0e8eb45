"""Fast inference path for the lifting models (P-STMO's STMO and LiftFormer).

``optimize_for_inference(model)`` returns a *copy* of a lifting model that computes the
same function as the reference eval forward (max abs difference well below 1e-4 in
float32) but faster:

1. every attention layer switched to ``attention="sdpa"`` (torch's fused
   ``scaled_dot_product_attention`` instead of the explicit softmax(QK^T / sqrt(d_k)) V);
2. every eval-mode BatchNorm folded into the adjacent 1x1 Conv1d / Linear where that is
   exact: conv -> BN (SEM's Conv1d/BN/LeakyReLU chains) and BN -> conv when the conv has no
   zero padding (the single- and multi-frame heads, BN(C) -> Conv1d(C -> 3J));
3. Q, K and V projected by one matrix product (``FusedSelfAttention``) and, in LiftFormer,
   the last block evaluated for the lifted token only (``CenterOnlyLastBlock``);
4. dropout modules removed (identity in eval anyway, but they cost a call each);
5. the forward run under ``torch.inference_mode`` (no autograd bookkeeping);
6. optionally ``torch.compile`` and, on CUDA, bf16 autocast (outputs returned in float32).

The models themselves already keep tokens in the ``(B, T, C)`` layout throughout (their
``Conv1d`` / ``BatchNorm1d`` run on it, see ``pstmo.models.layers``), so nothing here is
about layouts. ``FastLifter.embed_frames`` / ``lift_tokens`` expose the models' two halves
(SEM per frame, the temporal part per window) for whole-sequence lifting.

Prediction with flip averaging and whole-sequence lifting are in :mod:`pstmo.inference`
(``Lifter(fast=True)``, the default, runs this copy).

Shapes: ``x (B, N, J, 2)`` normalised 2D poses; outputs ``(B, 1, J, 3)`` (the centre frame).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "FastLifter",
    "fold_batchnorms",
    "optimize_for_inference",
    "remove_dropout",
    "set_attention",
    "fuse_attention",
    "FusedSelfAttention",
]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_ATTENTION_VALUES = ("sdpa", "reference")


# --------------------------------------------------------------------------------------
# Module surgery


def set_attention(model: nn.Module, attention: str) -> int:
    """Switch every attention implementation in ``model`` to ``attention`` in place.

    The models carry ``attention: "sdpa" | "reference"`` in their dataclass config and in
    the attention modules; this walks every sub-module and rewrites both the plain string
    attribute ``attention`` and a dataclass ``config``/``cfg`` with an ``attention`` field.
    Returns the number of modules changed.
    """
    if attention not in _ATTENTION_VALUES:
        raise ValueError(f"attention must be one of {_ATTENTION_VALUES}, got {attention!r}")
    changed = 0
    for module in model.modules():
        hit = False
        if isinstance(getattr(module, "attention", None), str):
            module.attention = attention
            hit = True
        for name in ("config", "cfg"):
            cfg = getattr(module, name, None)
            if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
                if any(f.name == "attention" for f in dataclasses.fields(cfg)):
                    setattr(module, name, dataclasses.replace(cfg, attention=attention))
                    hit = True
        changed += hit
    return changed


def remove_dropout(model: nn.Module) -> int:
    """Replace every ``nn.Dropout*`` module by ``nn.Identity`` in place; returns the count."""
    count = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.dropout._DropoutNd):
                setattr(parent, name, nn.Identity())
                count += 1
    return count


def _bn_scale_shift(bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval BatchNorm as a per-channel affine map y = x * scale + shift, in float64."""
    var = bn.running_var.double()
    mean = bn.running_mean.double()
    scale = torch.rsqrt(var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.double()
    shift = -mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias.double()
    return scale, shift


def _foldable_layer(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or (isinstance(m, nn.Conv1d) and m.groups == 1)


def _fold_after(layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> nn.Module:
    """layer -> BN  ==>  one layer with W' = W * s[out], b' = b * s + t."""
    scale, shift = _bn_scale_shift(bn)
    fused = copy.deepcopy(layer)
    w = layer.weight.double()
    shape = (-1,) + (1,) * (w.dim() - 1)
    bias = layer.bias.double() if layer.bias is not None else torch.zeros_like(scale)
    with torch.no_grad():
        fused.weight = nn.Parameter((w * scale.view(shape)).to(layer.weight.dtype))
        fused.bias = nn.Parameter((bias * scale + shift).to(layer.weight.dtype))
    return fused


def _fold_before(bn: nn.modules.batchnorm._BatchNorm, layer: nn.Module) -> nn.Module:
    """BN -> layer  ==>  one layer with W' = W * s[in], b' = b + sum_{i,k} W[o,i,k] t[i].

    Exact for Linear and for Conv1d without zero padding (a padded border would see the BN
    shift applied to zeros that the original never had).
    """
    scale, shift = _bn_scale_shift(bn)
    fused = copy.deepcopy(layer)
    w = layer.weight.double()  # (out, in) or (out, in, k)
    shape = (1, -1) + (1,) * (w.dim() - 2)
    bias = layer.bias.double() if layer.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    extra = (w * shift.view(shape)).flatten(1).sum(1)
    with torch.no_grad():
        fused.weight = nn.Parameter((w * scale.view(shape)).to(layer.weight.dtype))
        fused.bias = nn.Parameter((bias + extra).to(layer.weight.dtype))
    return fused


def _bn_before_ok(bn: nn.Module, layer: nn.Module) -> bool:
    if isinstance(layer, nn.Linear):
        return isinstance(bn, nn.BatchNorm1d)  # BN1d over features before a Linear on (B, C)
    return isinstance(bn, nn.BatchNorm1d) and all(p == 0 for p in _as_tuple(layer.padding))


def _as_tuple(p: Any) -> tuple:
    if isinstance(p, str):
        return (0,) if p == "valid" else (1,)
    return tuple(p) if isinstance(p, (tuple, list)) else (p,)


def _bn_ready(bn: nn.Module) -> bool:
    return (
        isinstance(bn, _BN)
        and bn.track_running_stats
        and bn.running_mean is not None
        and bn.running_var is not None
    )


def fold_batchnorms(model: nn.Module) -> int:
    """Fold eval-mode BatchNorm layers into adjacent Conv1d/Linear layers, in place.

    Looks at consecutive children of every ``nn.Sequential`` (dropout/identity in between
    are skipped over since they are no-ops in eval) and at modules that declare explicit
    pairs in ``_fold_pairs = [("conv", "bn"), ("bn", "head"), ...]`` (attribute names, in
    data-flow order). A folded BN is replaced by ``nn.Identity``. Returns the number folded.
    Only call on a model used in eval mode: training-mode BN is not an affine constant.
    """
    folded = 0
    for parent in list(model.modules()):
        if isinstance(parent, nn.Sequential):
            folded += _fold_sequential(parent)
        for first, second in getattr(parent, "_fold_pairs", ()):
            a, b = getattr(parent, first, None), getattr(parent, second, None)
            if _foldable_layer(a) and _bn_ready(b):
                setattr(parent, first, _fold_after(a, b))
                setattr(parent, second, nn.Identity())
                folded += 1
            elif _bn_ready(a) and _foldable_layer(b) and _bn_before_ok(a, b):
                setattr(parent, second, _fold_before(a, b))
                setattr(parent, first, nn.Identity())
                folded += 1
    return folded


def _fold_sequential(seq: nn.Sequential) -> int:
    names = list(seq._modules.keys())
    mods = [seq._modules[n] for n in names]
    folded = 0
    i = 0
    while i < len(mods):
        j = i + 1
        while j < len(mods) and isinstance(mods[j], (nn.Identity, nn.modules.dropout._DropoutNd)):
            j += 1
        if j >= len(mods):
            break
        a, b = mods[i], mods[j]
        if _foldable_layer(a) and _bn_ready(b):
            mods[i], mods[j] = _fold_after(a, b), nn.Identity()
            folded += 1
        elif _bn_ready(a) and _foldable_layer(b) and _bn_before_ok(a, b):
            mods[i], mods[j] = nn.Identity(), _fold_before(a, b)
            folded += 1
        i = j
    for n, m in zip(names, mods):
        seq._modules[n] = m
    return folded


# --------------------------------------------------------------------------------------
# Inference-only replacements: the same maths as the modules they replace


class FusedSelfAttention(nn.Module):
    """Multi-head self-attention with one fused QKV projection and ``scaled_dot_product_attention``.

    Built from a :class:`pstmo.models.layers.MultiHeadAttention` (``q``, ``k``, ``v``, ``proj``
    Linear(C, C) and ``heads``); ``forward(x (B, T, C), causal=False) -> (B, T, C)`` as it.
    """

    def __init__(self, attn: nn.Module):
        super().__init__()
        self.heads = attn.heads
        w = torch.cat([attn.q.weight, attn.k.weight, attn.v.weight]).detach()
        b = torch.cat([attn.q.bias, attn.k.bias, attn.v.bias]).detach()
        self.qkv_weight = nn.Parameter(w, requires_grad=False)
        self.qkv_bias = nn.Parameter(b, requires_grad=False)
        self.out = copy.deepcopy(attn.proj).requires_grad_(False)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        B, T, C = x.shape
        qkv = F.linear(x, self.qkv_weight, self.qkv_bias).view(B, T, 3, self.heads, C // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, h, T, d_k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.out(y.transpose(1, 2).reshape(B, T, C))


class CenterOnlyLastBlock(nn.Module):
    """LiftFormer's last post-LN encoder block evaluated for the lifted token only.

    Only the target token (the middle one, or the last one in causal mode) of the last block
    reaches the output head, so its query, attention row, residuals and FFN are computed for
    that token alone; keys and values still come from all N tokens (a causal last token sees
    every token anyway). ``(B, N, d) -> (B, 1, d)``; LiftFormer's forward then picks token 0
    of the 1-token output. Saves about one block's worth of FFN/projection FLOPs.
    """

    def __init__(self, block: nn.Module, attn: FusedSelfAttention, causal: bool):
        super().__init__()
        self.attn, self.causal = attn, causal
        self.norm1, self.ff, self.norm2 = block.norm1, block.ff, block.norm2

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        B, N, C = x.shape
        t = N - 1 if self.causal else N // 2
        h, d = self.attn.heads, C // self.attn.heads
        w, b = self.attn.qkv_weight, self.attn.qkv_bias
        q = F.linear(x[:, t : t + 1], w[:C], b[:C]).view(B, 1, h, d).transpose(1, 2)
        kv = F.linear(x, w[C:], b[C:]).view(B, N, 2, h, d)
        k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, h, N, d_k)
        y = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, 1, C)
        x = self.norm1(x[:, t : t + 1] + self.attn.out(y))
        return self.norm2(x + self.ff(x))


def _center_only_liftformer(model: nn.Module) -> bool:
    """Replace LiftFormer's last block by ``CenterOnlyLastBlock`` (after ``fuse_attention``)."""
    blocks = getattr(model, "blocks", None)
    if (
        type(model).__name__ != "LiftFormer"
        or blocks is None
        or not isinstance(blocks[-1].attn, FusedSelfAttention)
    ):
        return False
    blocks[-1] = CenterOnlyLastBlock(blocks[-1], blocks[-1].attn, bool(model.cfg.causal))
    return True


def _is_attention(m: nn.Module) -> bool:
    return (
        all(isinstance(getattr(m, n, None), nn.Linear) for n in ("q", "k", "v"))
        and isinstance(getattr(m, "proj", None), nn.Linear)
        and isinstance(getattr(m, "heads", None), int)
    )


def fuse_attention(model: nn.Module) -> int:
    """Replace every multi-head attention module by a :class:`FusedSelfAttention`, in place.

    Shared sub-modules (LiftFormer's weight sharing) stay shared. Returns the count replaced.
    """
    done: dict[int, nn.Module] = {}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in done:
                setattr(parent, name, done[id(child)])
            elif _is_attention(child):
                done[id(child)] = FusedSelfAttention(child)
                setattr(parent, name, done[id(child)])
    return len(done)


# --------------------------------------------------------------------------------------
# Wrapper and entry points


class FastLifter(nn.Module):
    """An optimised lifting model: ``forward(x (B, N, J, 2))`` like the wrapped model.

    The forward runs under ``torch.inference_mode`` and, if ``autocast_dtype`` is set and
    the input is on CUDA, under autocast; floating outputs come back in float32.
    """

    def __init__(self, model: nn.Module, autocast_dtype: torch.dtype | None = None, compiled: Any = None):
        super().__init__()
        self.model = model
        self.autocast_dtype = autocast_dtype
        self._compiled = compiled  # a torch.compile'd callable of self.model, or None

    def forward(self, x: torch.Tensor) -> Any:
        return self._run(self._compiled if self._compiled is not None else self.model, x)

    def embed_frames(self, x: torch.Tensor) -> torch.Tensor:
        """The wrapped model's ``embed_frames``: ``(B, T, J, 2) -> (B, T, C)`` (eager, not compiled)."""
        return self._run(self.model.embed_frames, x)

    def lift_tokens(self, h: torch.Tensor) -> Any:
        """The wrapped model's ``lift_tokens``: ``(B, N, C) -> LiftOutput`` (eager, not compiled)."""
        return self._run(self.model.lift_tokens, h)

    def _run(self, fn: Any, x: torch.Tensor) -> Any:
        with torch.inference_mode():
            if self.autocast_dtype is not None and x.is_cuda:
                with torch.autocast("cuda", dtype=self.autocast_dtype):
                    return _to_float32(fn(x))
            return fn(x)

    def train(self, mode: bool = True) -> FastLifter:
        if mode:
            raise RuntimeError("FastLifter is inference-only (BatchNorm folded, dropout removed)")
        return super().train(False)


def _to_float32(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if dataclasses.is_dataclass(out) and not isinstance(out, type):
        return dataclasses.replace(
            out, **{f.name: _to_float32(getattr(out, f.name)) for f in dataclasses.fields(out)}
        )
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return type(out)(*(_to_float32(v) for v in out))
    if isinstance(out, (tuple, list)):
        return type(out)(_to_float32(v) for v in out)
    return out


def optimize_for_inference(
    model: nn.Module,
    *,
    compile: bool = False,
    bf16: bool = False,
    fold_bn: bool = True,
    fuse: bool = True,
) -> FastLifter:
    """Return an inference-only copy of ``model`` with the same outputs (see module doc).

    Args:
        model: a lifting model (``STMO`` or ``LiftFormer``); it is not modified.
        compile: wrap the forward in ``torch.compile`` (worth it on CUDA; the first call
            compiles, so warm up before timing). Falls back to eager if compilation fails.
        bf16: run under bf16 autocast when the input is on CUDA (ignored on CPU, where
            bf16 matmuls are slower than float32); outputs then differ by ~1e-2.
        fold_bn: fold BatchNorm into adjacent 1x1 convs / linears.
        fuse: one QKV product per attention layer (``fuse_attention``) and LiftFormer's
            last block for the lifted token only.
    """
    fast = copy.deepcopy(model).eval()
    for p in fast.parameters():
        p.requires_grad_(False)
    set_attention(fast, "sdpa")
    remove_dropout(fast)
    if fold_bn:
        fold_batchnorms(fast)
    if fuse:
        fuse_attention(fast)
        _center_only_liftformer(fast)  # fast.model.encode() then returns 1 token
    compiled = None
    if compile:
        try:
            compiled = torch.compile(fast, dynamic=False)
        except Exception as exc:  # pragma: no cover - depends on the toolchain
            warnings.warn(f"torch.compile unavailable ({exc}); using eager mode", stacklevel=2)
    return FastLifter(fast, autocast_dtype=torch.bfloat16 if bf16 else None, compiled=compiled)
