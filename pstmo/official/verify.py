"""Check ``pstmo`` against fixtures computed with the official P-STMO code.

Two kinds of fixture (formats in the shared fixtures README), told apart by their keys:

- ``"forward"`` (``official_pstmo_tiny.npz``: ``stage2/state_dict/*``, ``stage2/input``...):
  the official Stage II and Stage I outputs in eval mode. :func:`verify_forward` builds both
  models from ``config/*`` and the state-dict shapes, loads the official weights with
  :func:`pstmo.official.weights.load_official_checkpoint` and returns the max absolute error of each
  output.
- ``"train_step"`` (``official_pstmo_train_step.npz``: ``stage2/state/*``, ``stage2/grad/*``,
  ``stage2/after/*``...): one official training step per stage. :func:`verify_train_step`
  builds each model from the initial state (train mode, dropout 0), computes the loss with
  :func:`pstmo.losses.lift_loss` (Stage II) / :func:`pstmo.losses.mpm_loss` (Stage I), back-
  propagates, takes one ``Adam(lr, amsgrad=True)`` step and compares loss, every gradient and
  every state entry after the step.

Tolerance rule of a training step (``tolerance``, default 1e-5):

- loss: ``|loss - official| <= tolerance``;
- gradients: ``max |grad - official grad| <= tolerance`` for every parameter (a parameter the
  official step gives no gradient, such as the built-but-unused final LayerNorms, counts as a
  zero gradient on both sides);
- weights after the step: ``|w - official w| <= tolerance`` for every buffer and for every
  parameter entry whose official gradient is resolved, and ``|after - before| <= lr +
  tolerance`` (ours and official alike) for the entries whose gradient is zero at the
  precision the gradients agree. Why: Adam's first step moves an entry by
  ``lr * g / (|g| + eps)``. Where the true gradient is zero (attention key biases, biases in
  front of a train-mode BatchNorm, dead FFN units) both implementations hold float round-off
  of either sign, which that step scales to anywhere in ``(-lr, lr)``: the two weights can
  differ by up to ``2 lr`` and only the bound ``lr`` is meaningful. An entry counts as zero
  when ``|official g| <= d + sqrt(lr * eps * d / tolerance)``, ``d`` the stage's worst
  gradient error: above that threshold both gradients have the same sign and the difference
  of the two steps, ``lr * eps * |g1 - g2| / ((|g1| + eps)(|g2| + eps))``, is provably below
  ``tolerance``, so the tight check cannot fail through the gradient round-off alone. (With
  the shared fixture the threshold is ~7e-7 for Stage II and ~4e-8 for Stage I.)

Every malformed fixture (unreadable, truncated, a key missing or of the wrong shape, names
with no ``pstmo`` counterpart) raises :class:`pstmo.errors.DataError` naming file and key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pstmo.data.check import load_npz
from pstmo.errors import CheckpointError, DataError
from pstmo.losses import lift_loss, mpm_loss
from pstmo.models import MPM, STMO
from pstmo.official.weights import config_from_state_dict, load_official_checkpoint, pstmo_to_official

__all__ = [
    "FIXTURE_KINDS",
    "FORWARD_TOLERANCE",
    "ADAM_EPS",
    "STAGES",
    "TRAIN_TOLERANCE",
    "StageCheck",
    "fixture_kind",
    "read_fixture",
    "verify_fixture",
    "verify_forward",
    "verify_train_step",
]

#: Max abs error allowed on the eval-mode outputs of a ``"forward"`` fixture.
FORWARD_TOLERANCE = 1e-4
#: Loss / gradient / weight tolerance of a ``"train_step"`` fixture (see the module docstring).
TRAIN_TOLERANCE = 1e-5
#: ``eps`` of ``torch.optim.Adam`` (the default, as the official ``run.py``).
ADAM_EPS = 1e-8
#: Kinds of fixture, recognised by :func:`fixture_kind`.
FIXTURE_KINDS = ("forward", "train_step")
#: Stages of a training-step fixture, in the order they are checked: (key prefix, title, lr key).
STAGES = (("stage2", "Stage II", "config/lr_stage2"), ("stage1", "Stage I", "config/lr_stage1"))

Fixture = Mapping[str, np.ndarray]


def read_fixture(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read eagerly and safely (numbers only, through
    :func:`pstmo.data.check.load_npz`): a missing, truncated or non-npz file fails here with one
    sentence naming it."""
    npz = load_npz(path, allow_objects=False)
    data = {k: np.asarray(npz[k]) for k in npz.files}
    if not data:
        raise DataError("the .npz holds no arrays", path=str(path))
    return data


def fixture_kind(data: Fixture, path: str = "fixture") -> str:
    """``"train_step"`` if the fixture has ``stage2/grad/*`` keys, ``"forward"`` if it has
    ``stage2/output_multi``; otherwise a :class:`DataError` naming what was expected."""
    if any(k.startswith("stage2/grad/") for k in data):
        return "train_step"
    if "stage2/output_multi" in data:
        return "forward"
    raise DataError(
        "not an official P-STMO fixture: expected 'stage2/grad/*' (training step) or "
        f"'stage2/output_multi' (forward pass); keys {sorted(data)[:8]}...",
        path=path,
    )


def _get(data: Fixture, path: str, key: str, shape: str, ndim: int | None = None) -> np.ndarray:
    if key not in data:
        raise DataError(f"missing (expected {shape})", path=path, key=key)
    arr = data[key]
    if ndim is not None and arr.ndim != ndim:
        raise DataError(f"expected {shape}, got shape {arr.shape}", path=path, key=key)
    return arr


def _group(data: Fixture, path: str, prefix: str) -> dict[str, torch.Tensor]:
    out = {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in data.items() if k.startswith(prefix)}
    if not out:
        raise DataError("no tensors found", path=path, key=prefix + "*")
    return out


def _poses(data: Fixture, path: str, key: str, coords: int, frames: int) -> torch.Tensor:
    """A ``(B, N, 17, coords)`` float32 tensor from ``key``, checked."""
    arr = _get(data, path, key, f"(B, {frames}, J, {coords})", 4)
    if arr.shape[1] != frames or arr.shape[3] != coords:
        raise DataError(f"expected (B, {frames}, J, {coords}), got {arr.shape}", path=path, key=key)
    return torch.from_numpy(arr.astype(np.float32))


def _config(data: Fixture, path: str, state: Mapping[str, torch.Tensor], **overrides):
    frames = int(_get(data, path, "config/frames", "a scalar", 0))
    strides = tuple(int(s) for s in np.atleast_1d(_get(data, path, "config/stride_num", "(K,) strides", 1)))
    if int(np.prod(strides)) != frames:
        raise DataError(
            f"strides {strides} do not multiply to N = {frames}", path=path, key="config/stride_num"
        )
    try:
        return config_from_state_dict(state, frames=frames, strides=strides, **overrides)
    except CheckpointError as exc:
        raise DataError(str(exc), path=path) from exc


def _load(model: nn.Module, state: Mapping[str, torch.Tensor], path: str, key: str) -> nn.Module:
    try:
        return load_official_checkpoint(model, state)
    except CheckpointError as exc:
        raise DataError(str(exc), path=path, key=key) from exc


# --------------------------------------------------------------------------- forward pass


def verify_forward(data: Fixture, path: str = "fixture", attention: str = "reference") -> dict[str, float]:
    """Max absolute errors ``{"stage2/output_single", "stage2/output_multi", "stage1/output"}``
    of the eval-mode outputs of a ``"forward"`` fixture."""

    def ours(key: str, coords: int) -> torch.Tensor:  # (B, C, N, J, 1) -> (B, N, J, C)
        arr = _get(data, path, key, f"(B, {coords}, N, J, 1)", 5)
        if arr.shape[1] != coords or arr.shape[4] != 1:
            raise DataError(f"expected (B, {coords}, N, J, 1), got {arr.shape}", path=path, key=key)
        return torch.from_numpy(arr.astype(np.float32))[..., 0].permute(0, 2, 3, 1)

    sd2 = _group(data, path, "stage2/state_dict/")
    stmo = _load(STMO(_config(data, path, sd2, attention=attention)), sd2, path, "stage2/state_dict/*").eval()
    sd1 = _group(data, path, "stage1/state_dict/")
    mpm = _load(MPM(_config(data, path, sd1, attention=attention)), sd1, path, "stage1/state_dict/*").eval()
    n, j = mpm.cfg.frames, mpm.cfg.joints
    errors: dict[str, float] = {}
    with torch.no_grad():
        out = stmo(ours("stage2/input", 2))
        errors["stage2/output_single"] = (out.center - ours("stage2/output_single", 3)).abs().max().item()
        errors["stage2/output_multi"] = (out.frames - ours("stage2/output_multi", 3)).abs().max().item()
        tmask, smask = _masks(data, path, n, j)
        rec = mpm(ours("stage1/input", 2), tmask, smask, official_order=True)
        errors["stage1/output"] = (rec - ours("stage1/output", 2)).abs().max().item()
    return errors


def _masks(data: Fixture, path: str, frames: int, joints: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = _get(data, path, "stage1/temporal_mask", f"({frames},) bool", 1)
    s = _get(data, path, "stage1/spatial_mask", f"({frames}, {joints}) bool", 2)
    if t.shape != (frames,):
        raise DataError(f"expected ({frames},) bool, got {t.shape}", path=path, key="stage1/temporal_mask")
    if s.shape != (frames, joints):
        raise DataError(
            f"expected ({frames}, {joints}) bool, got {s.shape}", path=path, key="stage1/spatial_mask"
        )
    return torch.from_numpy(t.astype(bool)), torch.from_numpy(s.astype(bool))


# --------------------------------------------------------------------------- training step


@dataclass
class StageCheck:
    """Result of one stage of a training-step fixture (errors are max absolute differences).

    ``grad_param`` / ``weight_param``: ``(pstmo name, official name)`` of the worst entry.
    ``zero_grad_threshold``: official gradients up to this magnitude count as zero (module
    docstring); ``zero_grad_entries`` counts those entries, ``zero_grad_step`` is their largest
    move ``|after - before|`` (ours or official), at ``zero_grad_param``; ``zero_grad_error``:
    the largest ``|ours - official|`` among them (at most ``2 lr``).
    """

    stage: str
    title: str
    lr: float
    tolerance: float
    loss: float
    official_loss: float
    grad_error: float
    grad_param: tuple[str, str]
    weight_error: float
    weight_param: tuple[str, str]
    zero_grad_threshold: float
    zero_grad_entries: int
    zero_grad_step: float
    zero_grad_param: tuple[str, str] | None
    zero_grad_error: float

    @property
    def loss_error(self) -> float:
        return abs(self.loss - self.official_loss)

    @property
    def loss_ok(self) -> bool:
        return self.loss_error <= self.tolerance

    @property
    def grad_ok(self) -> bool:
        return self.grad_error <= self.tolerance

    @property
    def weight_ok(self) -> bool:
        return self.weight_error <= self.tolerance

    @property
    def zero_grad_bound(self) -> float:
        """How far a zero-gradient entry may move in one Adam step: ``lr`` (+ ``tolerance``)."""
        return self.lr + self.tolerance

    @property
    def zero_grad_ok(self) -> bool:
        return self.zero_grad_step <= self.zero_grad_bound

    @property
    def ok(self) -> bool:
        return self.loss_ok and self.grad_ok and self.weight_ok and self.zero_grad_ok


def _official_name(name: str) -> str:
    return pstmo_to_official(name) or name


def _stage_loss(model: nn.Module, data: Fixture, path: str, stage: str) -> torch.Tensor:
    """The official training loss of ``stage`` on the fixture's batch, with ``pstmo.losses``."""
    n, j = model.cfg.frames, model.cfg.joints
    x = _poses(data, path, f"{stage}/input_2d", 2, n)
    if stage == "stage2":
        target = _poses(data, path, "stage2/target_3d", 3, n).clone()
        if target.shape[0] != x.shape[0] or target.shape[2] != j:
            raise DataError(
                f"expected ({x.shape[0]}, {n}, {j}, 3), got {tuple(target.shape)}",
                path=path,
                key="stage2/target_3d",
            )
        target[:, :, 0] = 0  # the official loss zeroes the (absolute) root of the target
        out = model(x)
        mid = (n - 1) // 2
        return lift_loss(out.center, target[:, mid : mid + 1], out.frames, target)
    t, s = _masks(data, path, n, j)
    rec = model(x, t, s, official_order=True)  # decoder tokens: visible frames, then masked
    return mpm_loss(rec, torch.cat([x[:, ~t], x[:, t]], dim=1))


def _check_fixture_shapes(
    params: dict[str, torch.Tensor],
    own_state: dict[str, torch.Tensor],
    grads: dict[str, torch.Tensor],
    after: dict[str, torch.Tensor],
    path: str,
    stage: str,
) -> None:
    """Every official gradient has a pstmo parameter of its shape, and every pstmo tensor has an
    official value after the step, of its shape (``DataError`` naming the fixture key)."""
    by_official = {_official_name(k): k for k in params}
    unknown = sorted(set(grads) - set(by_official))
    if unknown:
        raise DataError(f"gradients of {unknown} have no pstmo parameter", path=path, key=f"{stage}/grad/*")
    missing = sorted(_official_name(k) for k in own_state if _official_name(k) not in after)
    if missing:
        raise DataError(f"missing state after the step: {missing}", path=path, key=f"{stage}/after/*")
    for o, k in by_official.items():
        if o in grads and grads[o].shape != params[k].shape:
            raise DataError(
                f"expected shape {tuple(params[k].shape)}, got {tuple(grads[o].shape)}",
                path=path,
                key=f"{stage}/grad/{o}",
            )
    for k, v in own_state.items():
        o = _official_name(k)
        if after[o].shape != v.shape:
            raise DataError(
                f"expected shape {tuple(v.shape)}, got {tuple(after[o].shape)}",
                path=path,
                key=f"{stage}/after/{o}",
            )


def _check_stage(
    data: Fixture, path: str, stage: str, title: str, lr_key: str, attention: str, tolerance: float
) -> StageCheck:
    state = _group(data, path, f"{stage}/state/")
    grads = _group(data, path, f"{stage}/grad/")
    after = _group(data, path, f"{stage}/after/")
    lr = float(_get(data, path, lr_key, "a scalar learning rate", 0))
    official_loss = float(_get(data, path, f"{stage}/loss", "a scalar", 0))
    cfg = _config(data, path, state, attention=attention, dropout=0.0)
    model = STMO(cfg) if stage == "stage2" else MPM(cfg)
    _load(model, state, path, f"{stage}/state/*")
    model.train()

    params = dict(model.named_parameters())
    own_state = model.state_dict()
    _check_fixture_shapes(params, own_state, grads, after, path, stage)

    before = {k: v.detach().clone() for k, v in own_state.items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=True)
    optimizer.zero_grad()
    loss = _stage_loss(model, data, path, stage)
    loss.backward()

    grad_error, grad_param, official_grad = _gradient_error(params, grads)
    optimizer.step()
    d = max(grad_error, 0.0)
    threshold = d + math.sqrt(lr * ADAM_EPS * d / tolerance) if tolerance > 0 else d
    weights = _weight_errors(model.state_dict(), before, after, official_grad, threshold)
    weight_error, weight_param, zero_entries, zero_step, zero_param, zero_error = weights
    return StageCheck(
        stage=stage,
        title=title,
        lr=lr,
        tolerance=tolerance,
        loss=loss.item(),
        official_loss=official_loss,
        grad_error=max(grad_error, 0.0),
        grad_param=grad_param,
        weight_error=max(weight_error, 0.0),
        weight_param=weight_param,
        zero_grad_threshold=threshold,
        zero_grad_entries=zero_entries,
        zero_grad_step=zero_step,
        zero_grad_param=zero_param,
        zero_grad_error=zero_error,
    )


def _gradient_error(
    params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor]
) -> tuple[float, tuple[str, str], dict[str, torch.Tensor]]:
    """The worst absolute gradient error against the fixture, where it is (pstmo and official
    names), and the official gradient of every parameter (zero where the fixture has none)."""
    grad_error, grad_param = -1.0, ("", "")
    official_grad: dict[str, torch.Tensor] = {}
    for k, p in params.items():
        o = _official_name(k)
        theirs = grads[o].float() if o in grads else torch.zeros_like(p)
        mine = p.grad if p.grad is not None else torch.zeros_like(p)
        official_grad[k] = theirs
        err = (mine.float() - theirs).abs().max().item() if p.numel() else 0.0
        if err > grad_error:
            grad_error, grad_param = err, (k, o)
    return grad_error, grad_param, official_grad


def _weight_errors(
    state: dict[str, torch.Tensor],
    before: dict[str, torch.Tensor],
    after: dict[str, torch.Tensor],
    official_grad: dict[str, torch.Tensor],
    threshold: float,
) -> tuple[float, tuple[str, str], int, float, tuple[str, str] | None, float]:
    """After one step: the worst weight error on entries with a real gradient (and buffers), and on
    the zero-gradient entries (``|official grad| <= threshold``) their count, largest step, where,
    and the largest difference between ours and the official (module docstring)."""
    weight_error, weight_param = -1.0, ("", "")
    zero_entries, zero_step, zero_param, zero_error = 0, 0.0, None, 0.0
    for k, v in state.items():
        o = _official_name(k)
        mine, theirs, start = v.detach().double(), after[o].double(), before[k].double()
        diff = (mine - theirs).abs()
        if k in official_grad:
            zero = official_grad[k].abs() <= threshold
        else:  # a buffer (BatchNorm statistics): always compared tightly
            zero = torch.zeros_like(diff, dtype=torch.bool)
        tight = diff[~zero]
        if tight.numel() and tight.max().item() > weight_error:
            weight_error, weight_param = tight.max().item(), (k, o)
        if zero.any():
            zero_entries += int(zero.sum())
            step = torch.maximum((mine - start).abs(), (theirs - start).abs())[zero].max().item()
            if zero_param is None or step > zero_step:
                zero_step, zero_param = step, (k, o)
            zero_error = max(zero_error, diff[zero].max().item())
    return weight_error, weight_param, zero_entries, zero_step, zero_param, zero_error


def verify_train_step(
    data: Fixture, path: str = "fixture", attention: str = "reference", tolerance: float = TRAIN_TOLERANCE
) -> list[StageCheck]:
    """Check one official training step per stage (Stage II, then Stage I); see the module docstring."""
    return [_check_stage(data, path, s, title, lr, attention, tolerance) for s, title, lr in STAGES]


def verify_fixture(
    path: str | os.PathLike, attention: str = "reference", tolerance: float = TRAIN_TOLERANCE
) -> dict[str, float] | list[StageCheck]:
    """Read the fixture at ``path`` and check it by its kind: ``dict`` of output errors for a
    ``"forward"`` fixture (:func:`verify_forward`), a ``StageCheck`` per stage for a
    ``"train_step"`` fixture (:func:`verify_train_step`, with ``tolerance``)."""
    data = read_fixture(path)
    if fixture_kind(data, str(path)) == "train_step":
        return verify_train_step(data, str(path), attention=attention, tolerance=tolerance)
    return verify_forward(data, str(path), attention=attention)
