"""Parameter and FLOP counting, the way the P-STMO and LiftFormer papers count.

``count(model_or_config, frames=None, device=None) -> dict`` runs ONE forward pass of a single
N-frame clip ``(1, N, J, 2)`` (one clip gives one output frame, so the figures are "per frame at
inference time", P-STMO section 4.4) and returns

- ``params_total``: every parameter of the model (``model.parameters()``; a module shared by
  several blocks is counted once), positional embeddings and LayerNorms included.
- ``params_paper`` / ``flops_paper``: the papers' counting (below), and ``params_paper_m`` /
  ``flops_paper_m`` in millions, rounded the way the papers print them.
- ``flops_total``: ``torch.utils.flop_counter.FlopCounterMode`` FLOPs (2 per multiply-accumulate
  of every matmul / convolution, attention products ``Q K^T`` and ``A V`` included; norms and
  element-wise ops not counted). The CPU fused attention kernel is counted like the GPU ones.
- ``convention``: the counting convention used for the ``*_paper`` numbers, as a sentence.

P-STMO convention (Tables 3, 4, 5, 6) = what ``thop.profile`` (0.1.x) reports, re-implemented
here with forward hooks (no dependency on thop):

- only modules of type Conv (``nn.Conv1d/2d/3d``), ``nn.Linear``, BatchNorm / InstanceNorm and
  ``torch.nn.LayerNorm`` are counted (thop's non-zero rules that occur in these models);
  everything else counts zero: attention matrix products, softmax, activations, dropout,
  residual additions, the max-pool residual of MOFA, P-STMO's own LayerNorm class (a custom
  module, unknown to thop) and the learnable positional embeddings (plain ``nn.Parameter``s);
- parameters: the parameters of those modules that ran in the forward pass (each module once);
- multiply-accumulates (MACs):
  Conv: ``output elements x (in_channels / groups) x prod(kernel_size)`` (bias not counted),
  Linear: ``output elements x in_features`` (bias not counted),
  BatchNorm / InstanceNorm / ``nn.LayerNorm``: ``2 x input elements``, doubled again when
  affine (thop 0.1's ``calculate_norm`` rule), i.e. ``4 x input elements`` for every
  BatchNorm of P-STMO;
- FLOPs = 2 x MACs.

Checked against the paper: P-STMO-S with N = 243 has 740,933,632 MACs -> 1,481.9M FLOPs, printed
1482 (the older thop 0.0.31 rule, conv bias counted and BN = 2 x elements, gives 1481.5 -> 1481,
and leaving BN out 1478: neither matches). FLOPs are printed rounded to the nearest million.
``params_paper_m`` is the parameter count *truncated* to 0.1M, which is how the main rows are
printed: P-STMO (N = 243) has 6,750,310 parameters, printed 6.7 (rounding would give 6.8). The
paper is not consistent, though: MLP L=2 (2,796,851) is printed 2.8 (rounded), and the SEM+TEM
model (2,269,491) is printed 2.2 in Table 3 and 2.3 in Table 4. The tests therefore accept a
row when the paper's figure is our exact count either truncated or rounded to 0.1M.

LiftFormer convention (Tables 6 and 7): all parameters, ``params_paper = params_total`` (the
sinusoidal temporal encoding is a buffer, not a parameter; with weight sharing the shared
attention is counted once), printed rounded to 0.01M (18,958,387 -> 18.96). LiftFormer reports no
FLOPs; ``flops_paper`` is given with the thop rule above for comparison.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.utils import benchmark

from pstmo.errors import ConfigError
from pstmo.models import LiftFormer, build_model
from pstmo.registry import MEMORY_BUDGET  # defined there (torch-free), checked here for models

THOP_CONVENTION = (
    "P-STMO (thop 0.1.x): parameters of the Conv/Linear/BatchNorm/nn.LayerNorm modules that run; "
    "FLOPs = 2 x MACs of those modules (Conv: out x in/groups x kernel, Linear: out x in, no bias; "
    "affine norms: 4 x elements), attention products, P-STMO's custom LayerNorm and positional "
    "embeddings not counted; "
    "one N-frame clip = one output frame; params truncated to 0.1M, FLOPs rounded to 1M"
)
LIFTFORMER_CONVENTION = (
    "LiftFormer: all parameters (model.parameters(), shared attention counted once, sinusoidal "
    "temporal encoding is not a parameter), rounded to 0.01M; flops_paper uses the P-STMO/thop rule "
    "(LiftFormer reports no FLOPs)"
)

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm, nn.LayerNorm)
_COUNTED = (nn.modules.conv._ConvNd, nn.Linear, *_NORMS)


def module_macs(module: nn.Module, inputs: tuple, output: torch.Tensor) -> int:
    """thop-style multiply-accumulates of one call of a Conv / Linear / norm module (else 0)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, _NORMS):
        affine = getattr(module, "affine", False) or getattr(module, "elementwise_affine", False)
        return 2 * inputs[0].numel() * (2 if affine else 1)
    return 0


def _unique_numel(params: Iterable[nn.Parameter]) -> int:
    seen: dict[int, int] = {}
    for p in params:
        seen[id(p)] = p.numel()
    return sum(seen.values())


def thop_count(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """``(params, macs)`` of ``model(x)`` with the thop convention (see the module docstring)."""
    macs = 0
    ran: dict[int, nn.Module] = {}

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal macs
        macs += module_macs(module, inputs, output)
        ran[id(module)] = module

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _COUNTED)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    params = _unique_numel(p for m in ran.values() for p in m.parameters(recurse=False))
    return params, macs


def cpu_sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of torch's CPU fused attention counted as the GPU kernels' (``FlopCounterMode`` has no
    formula for it): the same products, from the shapes (also used by ``benchmarks/harness.py``)."""
    from torch.utils.flop_counter import sdpa_flop_count

    return sdpa_flop_count(query_shape, key_shape, value_shape)


def flop_counter_total(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of ``model(x)`` from ``torch.utils.flop_counter.FlopCounterMode`` (attention included)."""
    from torch.utils.flop_counter import FlopCounterMode

    custom = {}
    cpu_sdpa = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if cpu_sdpa is not None:  # not registered by torch: count it like the CUDA kernels
        custom[cpu_sdpa] = cpu_sdpa_flop
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=custom) as counter:
        model(x)
    return int(counter.get_total_flops())


def _model_config(model: nn.Module) -> Any:
    for name in ("cfg", "config"):
        cfg = getattr(model, name, None)
        if dataclasses.is_dataclass(cfg):
            return cfg
    return None


def build(config: Any, frames: int | None = None) -> nn.Module:
    """Build the model of a ``LiftFormerConfig`` or ``STMOConfig`` (optionally for another N)."""
    if frames is not None and frames != config.frames:
        changes: dict[str, Any] = {"frames": frames}
        if getattr(config, "strides", None) is not None:
            changes["strides"] = None  # MOFA strides follow N
        config = dataclasses.replace(config, **changes)
    return build_model(config)


def count(
    model_or_config: nn.Module | Any, frames: int | None = None, device: str | torch.device | None = None
) -> dict:
    """Count parameters and FLOPs of a lifting model (or of the model a config describes).

    ``frames`` is N, the clip length fed as one ``(1, N, J, 2)`` input; by default the
    config's ``frames``. ``device``: where the counting forward pass runs. ``"meta"`` (the
    default for a config) builds the model on PyTorch's meta device and runs on shapes only:
    same counts, no weight init and no arithmetic. A given model runs where its weights are
    (the default) or is moved to ``device`` (never to meta). Returns the dict described in
    the module docstring.
    """
    if isinstance(model_or_config, nn.Module):
        model = model_or_config
        cfg = _model_config(model)
        if frames is None:
            if cfg is None or not hasattr(cfg, "frames"):
                raise ValueError("count(model): pass frames=N, the model has no cfg/config with .frames")
            frames = cfg.frames
        if device is None or str(device) == "meta":  # never move the weights of a given model to meta
            device = next(model.parameters(), torch.empty(0)).device
    else:
        # on the meta device the model has shapes but no storage: no weight init, no arithmetic
        device = "meta" if device is None else device
        with torch.device("meta") if str(device) == "meta" else contextlib.nullcontext():
            model = build(model_or_config, frames)
        cfg = model_or_config
        frames = frames or cfg.frames
    joints = getattr(cfg, "joints", 17) if cfg is not None else 17
    was_training = model.training
    model = model.to(device).eval()
    x = torch.randn(1, frames, joints, 2, generator=torch.Generator().manual_seed(0)).to(device)
    try:
        params_thop, macs = thop_count(model, x)
        flops_total = flop_counter_total(model, x)
    finally:
        model.train(was_training)
    params_total = _unique_numel(model.parameters())
    flops_paper = 2 * macs
    if isinstance(model, LiftFormer):
        params_paper, convention = params_total, LIFTFORMER_CONVENTION
        params_paper_m = (params_paper + 5_000) // 10_000 / 100  # rounded to 0.01M
    else:
        params_paper, convention = params_thop, THOP_CONVENTION
        params_paper_m = params_paper // 100_000 / 10  # truncated to 0.1M
    return {
        "model": type(model).__name__,
        "frames": int(frames),
        "params_total": int(params_total),
        "params_paper": int(params_paper),
        "flops_paper": int(flops_paper),
        "flops_total": int(flops_total),
        "params_paper_m": params_paper_m,
        "flops_paper_m": int((flops_paper + 500_000) // 1_000_000),  # rounded to 1M
        "convention": convention,
    }


def frames_per_second(model: nn.Module, x: torch.Tensor, min_run_time: float = 1.0) -> float:
    """Output frames per second of ``model(x)``, the FPS of P-STMO Table 6: batched inference of
    windows ``x (B, N, J, 2)`` already on the model's device, no flip; ``B`` output frames per call.

    The median of ``torch.utils.benchmark.Timer.blocked_autorange`` (about ``min_run_time``
    seconds, CUDA synchronised) after one warm-up call, under ``torch.inference_mode``.
    """
    with torch.inference_mode():
        model(x)
        timer = benchmark.Timer(
            "model(x)", globals={"model": model, "x": x}, num_threads=torch.get_num_threads()
        )
        return x.shape[0] / timer.blocked_autorange(min_run_time=min_run_time).median


def format_table(result: dict) -> str:
    """A small human-readable table of a ``count`` result."""
    rows = [
        ("model", f"{result['model']} (N = {result['frames']})"),
        ("params (paper)", f"{result['params_paper']:,}  = {result['params_paper_m']}M"),
        ("FLOPs (paper)", f"{result['flops_paper']:,}  = {result['flops_paper_m']}M"),
        ("params (all)", f"{result['params_total']:,}"),
        ("FLOPs (FlopCounterMode)", f"{result['flops_total']:,}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append(f"convention: {result['convention']}")
    return "\n".join(lines)


#: Bytes of one float32 parameter.
PARAM_BYTES: int = 4


def _linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def _attention(dim: int) -> int:
    return 4 * _linear(dim, dim)  # q, k, v, proj


def _encoder(layers: int, dim: int, hidden: int, pos_embeds: int, max_len: int, strides: Any = None) -> int:
    """``pstmo.models.layers.TransformerEncoder``: pre-LN layers (2 LayerNorms, attention, FFN;
    MOFA's FFN is ``Conv1d(C, H, 1)``, ``Conv1d(H, C, 3)``), positional embeddings and the unused
    final LayerNorm."""
    ffn = _linear(dim, hidden) + (_linear(hidden, dim) if strides is None else 3 * hidden * dim + dim)
    return pos_embeds * max_len * dim + layers * (4 * dim + _attention(dim) + ffn) + 2 * dim


def _sem(cfg: Any) -> int:
    kind = cfg.sem if "sem" in cfg.components else "fc"
    two_j, channel = 2 * cfg.joints, cfg.channel
    if kind == "fc":
        return _linear(two_j, channel)
    if kind == "mlp":
        w = cfg.sem_width
        return _linear(two_j, w) + 2 * w + cfg.sem_blocks * 2 * (_linear(w, w) + 2 * w) + _linear(w, channel)
    d = channel // cfg.joints  # PoseFormer's spatial transformer, per-joint width d
    block = 4 * d + _attention(d) + _linear(d, 2 * d) + _linear(2 * d, d)
    return _linear(2, d) + cfg.joints * d + cfg.sem_blocks * block + 2 * d


def estimate_parameters(cfg: Any, stage: str = "lift") -> int:
    """The parameter count of the model that ``cfg`` describes, from the config alone: nothing
    is built or allocated, and Python integers do not overflow, so an absurd size (``channel
    = 10**12``, ``layers = 10**12``) is measured before anything would try to allocate it.

    ``STMOConfig``: the Stage II STMO (``stage="lift"`` / ``"refine"``) or the Stage I MPM
    (``stage="pretrain"``); ``LiftFormerConfig``: LiftFormer (its temporal encoding, a buffer of
    ``frames x dim``, included). Exact for the models of :mod:`pstmo.models` (tested against
    ``sum(p.numel())``; BatchNorm running statistics are buffers and not counted).
    """
    if hasattr(cfg, "ff_dim"):  # LiftFormerConfig
        d, two_j = cfg.dim, 2 * cfg.joints
        attention = _attention(d) * (1 if cfg.weight_sharing else cfg.blocks)
        blocks = cfg.blocks * (4 * d + _linear(d, cfg.ff_dim) + _linear(cfg.ff_dim, d))
        return _linear(two_j, d) + attention + blocks + _linear(d, 3 * cfg.joints) + cfg.frames * d
    c, h, n, j = cfg.channel, cfg.hidden, cfg.frames, cfg.joints
    comps = set(cfg.components)
    head = 2 * c + _linear(c, 3 * j)  # BN(C) -> Conv1d(C, 3J)
    if stage == "pretrain":
        d = c // 2
        encoder = _sem(cfg) + _encoder(cfg.layers, c, h, 1, n)
        decoder = _encoder(cfg.layers - 1, d, h // 2, 0, 0) + 2 * d + _linear(d, 2 * j)
        return 2 + encoder + 2 * c + _linear(c, d, bias=False) + d + n * d + decoder
    total = _sem(cfg) + head
    if "tem" in comps:
        total += _encoder(cfg.layers, c, h, 1, n)
    if "mofa" in comps:
        strides = cfg.mofa_strides
        total += head + _encoder(len(strides), c, h, min(3, len(strides)), n, strides)
    if cfg.refine:
        total += _linear(6 * j, 1024) + _linear(1024, 2 * j)
    return total


def check_model_memory(cfg: Any, stage: str = "lift", budget: int = MEMORY_BUDGET) -> int:
    """Refuse a model whose float32 weights alone would take more than ``budget`` bytes, with
    :class:`~pstmo.errors.ConfigError` giving the estimate, before anything is built; returns
    the parameter count (:func:`estimate_parameters`)."""
    n = estimate_parameters(cfg, stage)
    if n * PARAM_BYTES > budget:
        raise ConfigError(
            f"this {type(cfg).__name__} would have about {n:.3g} parameters, {n * PARAM_BYTES / 2**30:.3g} GiB "
            f"of float32 weights, more than the {budget / 2**30:g} GiB budget; lower its sizes"
        )
    return n


# ------------------------------------------------------- the papers' printed Params / FLOPs


def printed_match(printed: float | None, exact: float, scale: float = 1e6, decimals: int = 1) -> bool:
    """Whether a figure printed in a paper (e.g. Params 2.2 in millions) is our ``exact`` count
    divided by ``scale`` and either truncated or rounded to ``decimals`` places (the papers do both,
    docs/FIDELITY.md "Counting conventions"). False when nothing is printed."""
    if printed is None or printed != printed:
        return False
    q = 10**decimals
    value = exact / scale * q
    candidates = {math.floor(value + 1e-9) / q, round(value) / q}
    return any(abs(printed - c) < 0.5 / q for c in candidates)


def count_columns(table: Any, reported: Any, counts: dict, keys: list, names: dict) -> list[str]:
    """Add a paper table's Params(M) / FLOPs(M) columns to ``table`` (a DataFrame, in place): the
    paper's figure, then our exact count at the paper's size (``counts[key]`` from
    :func:`pstmo.complexity.count`; ``keys`` the table's rows in order). Returns ``names[key]`` of
    the rows whose printed figures our counts do not reproduce (:func:`printed_match`: Params to
    0.1M, FLOPs to 1M)."""
    table["Params(M) (paper)"] = reported["Params(M)"]
    table["Params(M) (ours, exact)"] = [round(counts[k]["params_paper"] / 1e6, 2) for k in keys]
    table["FLOPs(M) (paper)"] = reported["FLOPs(M)"].astype("Int64")
    table["FLOPs(M) (ours, exact)"] = [round(counts[k]["flops_paper"] / 1e6, 1) for k in keys]
    return [
        names[k]
        for k, (_, row) in zip(keys, reported.iterrows())
        if not (
            printed_match(row["Params(M)"], counts[k]["params_paper"], 1e6, 1)
            and printed_match(row["FLOPs(M)"], counts[k]["flops_paper"], 1e6, 0)
        )
    ]
