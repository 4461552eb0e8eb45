"""Checkpoints: writing them, reading them, and rebuilding the model they hold.

A ``pstmo`` checkpoint is a dict saved with ``torch.save``:

- ``format`` (:data:`FORMAT`), ``stage``, ``train_config`` (:meth:`TrainConfig.to_dict`, the
  model configuration included), ``skeleton`` (parents, left and right joints of the training
  data: the flip permutation of test-time augmentation), ``model`` (the state dict),
  ``checksum`` (:func:`checksum`: SHA-256 of every tensor, written by :func:`save`);
- a resumable ``last.pt`` adds ``optimizer``, ``scheduler``, ``batcher``, ``rng``,
  ``mask_generator``, ``epoch``, ``step``, ``best``, ``history`` and the epoch's running loss.

**Writing** (:func:`save`): a temporary file beside the target, fsync, ``os.replace`` onto it;
``previous=`` keeps the old file under a second name (``last.prev.pt``) by a hard link made
*before* the replace, so the target is never absent and always a complete file.

**Reading** treats every checkpoint as data from a stranger, here and only here (every command
reads through this module): :func:`validate` checks the stage, the configuration (the same
checks as the command line's, and the memory budget of :func:`pstmo.complexity.check_model_memory`
before anything is built), the skeleton lists, the state dict's types, the checksum (files
without one, written before it existed, still load) and that every tensor is finite. A bad
file is one :class:`~pstmo.errors.CheckpointError` naming the file, the key and what was expected.

:func:`load_model` also reads the released **official** P-STMO checkpoints (a plain state dict,
names with ``module.``): the architecture is read off the tensor shapes. Stage I and Stage II
weights are told apart by their keys (:func:`official_stage`), and weights of the wrong stage or
size are refused in one sentence that says which options fit (:func:`read_encoder_state`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pstmo import models
from pstmo.complexity import check_model_memory
from pstmo.config import STAGES, TrainConfig
from pstmo.errors import CheckpointError, ConfigError
from pstmo.io import atomic_write
from pstmo.official.weights import (
    config_from_state_dict,
    load_official_checkpoint,
    map_official_state_dict,
    read_state_dict,
)
from pstmo.runtime import resolve_device
from pstmo.skeleton import H36M_SKELETON, Skeleton
from pstmo.state import load_state_strict, read_torch_file, unwrap

FORMAT = "pstmo-checkpoint-v2"
#: Keys every pstmo checkpoint has (resumable ones have more).
REQUIRED = ("format", "stage", "train_config", "model")
#: Key of the checksum :func:`save` writes (absent from older files and official ones).
CHECKSUM_KEY = "checksum"
#: Nesting deeper than this in a checkpoint is refused (pstmo writes at most 5 levels).
MAX_DEPTH = 32
#: Official Stage I (``Model_MAE``: decoder) and Stage II (``Model``: MOFA, heads) key prefixes.
OFFICIAL_STAGE1_KEYS = (
    "Transformer_dec.",
    "encoder_to_decoder.",
    "dec_pos_embedding",
    "fcn_dec.",
    "mask_token",
)
OFFICIAL_STAGE2_KEYS = ("Transformer_reduce.", "fcn.", "fcn_1.")
#: Sizes that must agree for Stage I weights to initialise a Stage II model.
ENCODER_SIZES = ("frames", "channel", "hidden", "layers", "sem", "sem_width", "sem_blocks", "joints")


@dataclass
class ModelInfo:
    """What a checkpoint says about its model: ``stage``, window size ``frames`` (N), TDS rate
    ``tds``, the ``skeleton`` of its training data, its ``config`` (None for official files);
    ``embedded``: the Stage I checkpoint stored inside it under the key ``"mpm"`` (the shipped
    model's), validated with its container, or None."""

    stage: str
    frames: int
    tds: int
    skeleton: Skeleton
    config: TrainConfig | None = None
    official: bool = False
    path: str = ""
    embedded: Mapping[str, Any] | None = None


def build_run_model(cfg: TrainConfig) -> nn.Module:
    """The network a run's stage trains: ``MPM`` (Stage I), ``STMO`` or ``LiftFormer``
    (:func:`pstmo.models.build_model` builds a model from a model configuration alone)."""
    if cfg.stage == "pretrain":
        return models.MPM(cfg.model)
    return models.build_model(cfg.model)


def skeleton_to_dict(skeleton: Skeleton) -> dict[str, list]:
    return {"parents": list(skeleton.parents), "left": list(skeleton.left), "right": list(skeleton.right),
            "names": list(skeleton.names)}  # fmt: skip


def skeleton_from_dict(data: Mapping[str, Any] | None) -> Skeleton:
    if not data:
        return H36M_SKELETON
    return Skeleton(tuple(data["parents"]), tuple(data["left"]), tuple(data["right"]), tuple(data["names"]))


# ---------------------------------------------------------------------------------- writing
def tensors_of(obj: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor inside a checkpoint's nested dicts, lists and tuples with its path
    (``model.sem.fc_in.weight``, ``optimizer.state.0.exp_avg``), in a fixed order (keys sorted)."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"key {prefix!r}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, Mapping):
        for key in sorted(obj, key=repr):
            yield from tensors_of(obj[key], f"{prefix}.{key}" if prefix else str(key), depth + 1)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from tensors_of(item, f"{prefix}.{i}", depth + 1)


def _hash_into(digest: Any, name: str, tensor: torch.Tensor) -> None:
    t = tensor.detach().to("cpu").contiguous()
    digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
    if t.numel():
        digest.update(t.reshape(-1).view(torch.uint8).numpy())


def checksum(payload: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` over every tensor of ``payload`` (path, dtype, shape and bytes, in the
    order of :func:`tensors_of`); the ``checksum`` key itself is a string and not covered."""
    digest = hashlib.sha256()
    for name, tensor in tensors_of(payload):
        _hash_into(digest, name, tensor)
    return f"sha256:{digest.hexdigest()}"


def _keep_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` the file that ``path`` holds now while ``path`` stays where it is: a hard
    link (a copy where the file system has none) under a temporary name, renamed onto ``previous``."""
    if not path.is_file():
        return
    tmp = previous.with_name(f".{previous.name}.{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(path, tmp)
        except OSError:  # no hard links here (FAT, some network file systems)
            shutil.copyfile(path, tmp)
        os.replace(tmp, previous)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save(
    path: str | os.PathLike, payload: dict[str, Any], *, previous: str | os.PathLike | None = None,
    parents: bool = True,
) -> Path:  # fmt: skip
    """Write ``payload`` and its :func:`checksum` with ``torch.save``: into a temporary file beside
    ``path``, fsync, then ``os.replace`` onto ``path``, so ``path`` is at every instant the old or
    the new complete file. ``previous``: keep the old file under this name too (``last.prev.pt``),
    linked before the replace (``path`` is never renamed away). ``parents=False``: a missing folder
    is an error (a run folder that disappeared is not re-created)."""
    path = Path(path)
    data = {**payload, CHECKSUM_KEY: checksum(payload)}
    keep = None if previous is None else (lambda: _keep_previous(path, Path(previous)))
    with atomic_write(path, "wb", parents=parents, before_replace=keep) as fh:
        torch.save(data, fh)
    return path


def payload(model: nn.Module, cfg: TrainConfig, skeleton: Skeleton | None = None) -> dict[str, Any]:
    """The weights-and-configuration part of a checkpoint."""
    return {
        "format": FORMAT, "stage": cfg.stage, "train_config": cfg.to_dict(),
        "skeleton": skeleton_to_dict(skeleton or H36M_SKELETON), "model": unwrap(model).state_dict(),
    }  # fmt: skip


def save_model(
    model: nn.Module, cfg: TrainConfig, path: str | os.PathLike, skeleton: Skeleton | None = None
) -> Path:
    """Write ``model`` (built for ``cfg``) as a checkpoint that :func:`load_model`, ``evaluate`` and
    ``pstmo lift`` read. Weights and configuration only: it cannot be resumed."""
    return save(path, payload(model, cfg, skeleton))


# ---------------------------------------------------------------------------------- validation
def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def config_of(ckpt: Mapping[str, Any], path: str | os.PathLike) -> TrainConfig:
    """The :class:`TrainConfig` a checkpoint was written with (checked as every configuration)."""
    try:
        return TrainConfig.from_dict(ckpt["train_config"])
    except (ConfigError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise CheckpointError(f"{path}: key 'train_config': {exc}") from None


def check_size(model_cfg: Any, stage: str, path: str | os.PathLike) -> None:
    """Refuse a model configuration beyond the memory budget, measured from the configuration
    alone (:func:`pstmo.complexity.check_model_memory`), before anything is built."""
    try:
        check_model_memory(model_cfg, stage)
    except ConfigError as exc:
        text = str(exc).removesuffix("; lower its sizes")
        raise CheckpointError(f"{path}: key 'train_config': {text}; refusing to build it") from None


def _index_list(data: Mapping[str, Any], key: str, joints: int, low: int, path: Any) -> list[int]:
    value = data.get(key)
    ok = isinstance(value, list | tuple) and all(
        isinstance(i, int) and not isinstance(i, bool) and low <= i < joints for i in value
    )
    if not ok:
        raise CheckpointError(
            f"{path}: key 'skeleton.{key}' is {_short(value)}, expected a list of joint indices "
            f"from {low} to {joints - 1} (the model has {joints} joints)"
        )
    return list(value)


def check_skeleton(data: Any, joints: int, path: str | os.PathLike) -> Skeleton:
    """The skeleton of a checkpoint, checked: ``parents`` (one per joint, -1 for the root),
    ``left`` and ``right`` (joint indices, distinct, disjoint, as many left as right), ``names``."""
    if not isinstance(data, Mapping):
        raise CheckpointError(
            f"{path}: key 'skeleton' is {_short(data)}, expected parents, left, right and names of the joints"
        )
    parents = _index_list(data, "parents", joints, -1, path)
    left, right = (_index_list(data, k, joints, 0, path) for k in ("left", "right"))
    names = data.get("names")
    if len(parents) != joints:
        raise CheckpointError(f"{path}: key 'skeleton.parents' has {len(parents)} entries, expected {joints}")
    if len(left) != len(right) or len(set(left)) != len(left) or len(set(right)) != len(right):
        raise CheckpointError(
            f"{path}: keys 'skeleton.left' {_short(left)} and 'skeleton.right' {_short(right)}: expected "
            "two lists of distinct joints of the same length (each left joint's right counterpart)"
        )
    if set(left) & set(right):
        raise CheckpointError(
            f"{path}: joints {sorted(set(left) & set(right))} are in both 'skeleton.left' and 'skeleton.right'"
        )
    if not (
        isinstance(names, list | tuple) and len(names) == joints and all(isinstance(n, str) for n in names)
    ):
        raise CheckpointError(
            f"{path}: key 'skeleton.names' is {_short(names)}, expected {joints} joint names"
        )
    return Skeleton(tuple(parents), tuple(left), tuple(right), tuple(names))


def check_state_dict(state: Any, path: str | os.PathLike, key: str = "model") -> None:
    """A state dict: a non-empty mapping of names to tensors."""
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(
            f"{path}: key {key!r} is {_short(state)}, expected a state dict (names -> tensors)"
        )
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{path}: key {key!r}: entry {_short(name)} is a {type(value).__name__}, expected a tensor"
            )


def _non_finite(tensor: torch.Tensor) -> bool:
    return (tensor.is_floating_point() or tensor.is_complex()) and not bool(torch.isfinite(tensor).all())


def _refuse_non_finite(name: str, tensor: torch.Tensor, path: str | os.PathLike) -> None:
    bad = int((~torch.isfinite(tensor)).sum())
    raise CheckpointError(
        f"{path}: tensor {name!r} holds {bad} NaN or infinite value(s) of {tensor.numel()}; "
        "expected finite weights (the run that wrote it diverged, or the file is damaged)"
    )


def check_finite(obj: Any, path: str | os.PathLike) -> None:
    """Refuse NaN or infinite values in any floating-point tensor, naming the first such tensor."""
    for name, tensor in tensors_of(obj):
        if _non_finite(tensor):
            _refuse_non_finite(name, tensor, path)


def check_tensors(ckpt: Mapping[str, Any], path: str | os.PathLike) -> None:
    """One pass over the tensors: they match the checksum written with them (a file written
    before checksums existed has none and passes) and are finite. A mismatch is reported
    before a non-finite value (a damaged file, not a diverged run)."""
    stored = ckpt.get(CHECKSUM_KEY)
    if stored is not None and not (
        isinstance(stored, str) and stored.startswith("sha256:") and len(stored) == 71
    ):
        raise CheckpointError(
            f"{path}: key 'checksum' is {_short(stored)}, expected 'sha256:' and 64 hex digits"
        )
    digest, first_bad = hashlib.sha256(), None
    for name, tensor in tensors_of({k: v for k, v in ckpt.items() if k != CHECKSUM_KEY}):
        _hash_into(digest, name, tensor)
        if first_bad is None and _non_finite(tensor):
            first_bad = (name, tensor)
    actual = f"sha256:{digest.hexdigest()}"
    if stored is not None and actual != stored:
        raise CheckpointError(
            f"{path}: corrupted: its tensors do not match the checksum written with them (key 'checksum' "
            f"{stored[:19]}..., the tensors give {actual[:19]}...); use another copy"
        )
    if first_bad is not None:
        _refuse_non_finite(*first_bad, path)


def check_format(ckpt: Any, path: str | os.PathLike) -> None:
    """A ``pstmo`` checkpoint: a dict with :data:`FORMAT` and the :data:`REQUIRED` keys."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{path}: not a pstmo checkpoint (key 'format' is {_short(found)}, expected {FORMAT!r})"
        )
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: pstmo checkpoint without key(s) {missing}")


def validate(ckpt: Any, path: str | os.PathLike, nested: bool = False) -> TrainConfig:
    """Every check of a ``pstmo`` checkpoint's content (module docstring), before anything is
    built; returns its configuration. ``nested``: a checkpoint inside another (key ``mpm``),
    whose tensors the outer checksum and finiteness check already cover."""
    check_format(ckpt, path)
    cfg = config_of(ckpt, path)
    if ckpt["stage"] != cfg.stage:
        raise CheckpointError(
            f"{path}: key 'stage' is {_short(ckpt['stage'])}, expected one of {', '.join(STAGES)} "
            f"matching train_config's stage {cfg.stage!r}"
        )
    check_size(cfg.model, cfg.stage, path)
    check_skeleton(ckpt.get("skeleton"), cfg.model.joints, path)
    check_state_dict(ckpt["model"], path)
    if not nested:
        check_tensors(ckpt, path)
    if isinstance(ckpt.get("mpm"), Mapping):
        validate(ckpt["mpm"], f"{path} (key 'mpm')", nested=True)
    return cfg


def expect_stage(ckpt: Mapping[str, Any], want: str, path: str | os.PathLike, option: str) -> None:
    """Refuse Stage II weights where Stage I weights are expected (``want="pretrain"``) and the
    other way round (``want="lift"``: a lift or refine run), saying which is which."""
    stage = ckpt["stage"]
    if (stage == "pretrain") == (want == "pretrain"):
        return
    if want == "pretrain":
        raise CheckpointError(
            f"{path}: key 'stage' is {stage!r} (Stage II weights), expected a pretrain (Stage I) run for "
            f"{option}; Stage II weights initialise a run with --init-from"
        )
    raise CheckpointError(
        f"{path}: key 'stage' is 'pretrain' (Stage I weights), expected a Stage II (lift or refine) run for "
        f"{option}; Stage I weights initialise a run with --pretrained"
    )


def load_checkpoint(
    path: str | os.PathLike, expect: str | None = None, option: str = "this use"
) -> dict[str, Any]:
    """Read and :func:`validate` a ``pstmo`` checkpoint (``best.pt`` / ``last.pt``);
    :class:`CheckpointError` if it is not one or fails a check. ``expect``: ``"pretrain"`` or
    ``"lift"`` (:func:`expect_stage`; ``option`` names what asked for it, e.g. ``--init-from``)."""
    ckpt = read_torch_file(path)
    validate(ckpt, path)
    if expect is not None:
        expect_stage(ckpt, expect, path, option)
    return ckpt


def is_pstmo_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and str(obj.get("format", "")).startswith("pstmo-checkpoint")


# ---------------------------------------------------------------------------------- models
def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, ModelInfo]:
    """The model of a ``pstmo`` checkpoint or of a released official P-STMO checkpoint, in eval mode.

    Official state dicts do not record the TDS rate they were trained with; the paper's 243-frame
    results (Table 1) are its s = 2 models, so 243-frame official checkpoints report ``tds = 2``
    (callers may override, e.g. ``pstmo evaluate --tds``).
    """
    dev = resolve_device(device)
    raw = read_torch_file(path)
    if is_pstmo_checkpoint(raw):
        cfg = validate(raw, path)
        model = build_run_model(cfg)
        load_state_strict(model, raw["model"], source=str(path))
        skeleton = check_skeleton(raw["skeleton"], cfg.model.joints, path)
        inside = raw.get("mpm") if is_pstmo_checkpoint(raw.get("mpm")) else None  # validated with raw
        info = ModelInfo(cfg.stage, cfg.frames, cfg.tds, skeleton, cfg, path=str(path), embedded=inside)
    else:
        state = _official_state(raw, path)
        if official_stage(state) == "pretrain":
            raise CheckpointError(
                f"{path}: official Stage I weights (Model_MAE, masked pose pre-training: decoder keys "
                "'Transformer_dec.*'), expected official Stage II weights (Model: 'Transformer_reduce.*'); "
                "Stage I weights initialise a run with pstmo train --pretrained"
            )
        mcfg = infer_official_config(state, source=str(path))
        check_size(mcfg, "lift", path)
        model = load_official_checkpoint(models.build_model(mcfg), state)
        tds = 2 if mcfg.frames == 243 else 1
        info = ModelInfo("lift", mcfg.frames, tds, H36M_SKELETON, None, official=True, path=str(path))
    return model.to(dev).eval(), info


def official_stage(state: Mapping[str, Any]) -> str | None:
    """``"pretrain"`` for official Stage I weights (``Model_MAE``: decoder keys), ``"lift"`` for
    Stage II (``Model``: MOFA or the heads), None when neither kind of key is there."""
    names = [str(k).removeprefix("module.") for k in state]
    if any(n.startswith(OFFICIAL_STAGE1_KEYS) for n in names):
        return "pretrain"
    if any(n.startswith(OFFICIAL_STAGE2_KEYS) for n in names):
        return "lift"
    return None


def _official_state(raw: Any, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The flat state dict of an official file, every tensor finite."""
    try:
        state = read_state_dict(raw)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    check_finite(state, path)
    return state


def infer_official_config(state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> models.STMOConfig:
    """The ``STMOConfig`` of an official Stage II state dict, read off its shapes
    (:func:`pstmo.official.weights.config_from_state_dict`)."""
    if official_stage(state) != "lift":
        raise CheckpointError(
            f"{source}: no {', '.join(k + '*' for k in OFFICIAL_STAGE2_KEYS)} keys (MOFA, the heads) "
            "without Stage I decoder keys: not an official Stage II state dict"
        )
    return _official_config(state, source)


def _official_config(state: Mapping[str, torch.Tensor], source: str, **overrides: Any) -> models.STMOConfig:
    try:
        return config_from_state_dict(state, **overrides)
    except (ValueError, IndexError, TypeError) as exc:
        raise CheckpointError(f"{source}: cannot infer the P-STMO configuration: {exc}") from None


def _paper_preset(have: models.STMOConfig) -> str | None:
    """The preset whose paper-size model has the sizes of ``have``, if one has."""
    for preset in ("p-stmo-s", "p-stmo"):
        paper = models.get_config(preset, frames=have.frames, components=("sem", "tem"))
        if all(getattr(paper, k) == getattr(have, k) for k in ENCODER_SIZES):
            return preset
    return None


def fitting_options(have: models.STMOConfig, want: models.STMOConfig) -> str:
    """The ``pstmo train`` options under which a model of ``want``'s kind has ``have``'s sizes."""
    opts = [f"--frames {have.frames}"] if have.frames != want.frames else []
    opts += [f"--set {k}={getattr(have, k)}" for k in ("channel", "hidden", "layers", "sem", "sem_blocks", "joints")
             if getattr(have, k) != getattr(want, k)]  # fmt: skip
    if have.sem_width != (want.sem_hidden or 2 * have.channel):
        opts.append(f"--set sem_hidden={have.sem_width}")
    if have.channel % want.heads:
        opts.append(f"--set heads={8 if have.channel % 8 == 0 else 1}")
    text = " ".join(opts)
    preset = _paper_preset(have)
    if preset is not None:
        text += f" (the sizes of --profile paper --model {preset} --frames {have.frames})"
    return text


def check_encoder_fits(path: str | os.PathLike, have: models.STMOConfig, want: Any) -> None:
    """Refuse Stage I weights whose sizes (:data:`ENCODER_SIZES`) differ from the Stage II model's,
    in one sentence that says which options fit the file."""
    if not isinstance(want, models.STMOConfig):
        raise CheckpointError(
            f"{path}: --pretrained initialises P-STMO's SEM and TEM; {type(want).__name__} has no Stage I"
        )
    diff = [k for k in ENCODER_SIZES if getattr(have, k) != getattr(want, k)]
    if diff:
        raise CheckpointError(
            f"{path}: Stage I weights of another size ({', '.join(f'{k}={getattr(have, k)}' for k in diff)}; "
            f"this run's model has {', '.join(f'{k}={getattr(want, k)}' for k in diff)}): to start from "
            f"them use {fitting_options(have, want)}"
        )


def read_encoder_state(path: str | os.PathLike, fit: Any = None) -> dict[str, torch.Tensor]:
    """The Stage I weights that initialise Stage II (``--pretrained``), with ``pstmo`` names
    (for ``STMO.load_pretrained_encoder``): a ``pstmo`` pretrain checkpoint or an official
    Stage I ``.pth`` (its names mapped by :func:`pstmo.official.weights.map_official_state_dict`).
    Stage II weights are refused; ``fit``: the Stage II model's configuration, whose sizes the
    weights must have (:func:`check_encoder_fits`)."""
    raw = read_torch_file(path)
    if is_pstmo_checkpoint(raw):
        cfg = validate(raw, path)
        expect_stage(raw, "pretrain", path, "--pretrained")
        if fit is not None:
            check_encoder_fits(path, cfg.model, fit)
        return raw["model"]
    state = _official_state(raw, path)
    stage = official_stage(state)
    if stage == "lift":
        raise CheckpointError(
            f"{path}: official Stage II weights (Model: keys 'Transformer_reduce.*', 'fcn.*'), expected official "
            "Stage I weights (Model_MAE, with decoder keys 'Transformer_dec.*') for --pretrained"
        )
    if not any(k.startswith(("encoder.", "Transformer.")) for k in state):
        raise CheckpointError(
            f"{path}: neither a pstmo checkpoint nor an official state dict with 'encoder.*' keys"
        )
    if fit is not None:
        check_encoder_fits(path, _official_config(state, str(path), components=("sem", "tem")), fit)
    try:
        return map_official_state_dict(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


__all__ = [
    "CHECKSUM_KEY",
    "FORMAT",
    "ModelInfo",
    "build_run_model",
    "checksum",
    "load_checkpoint",
    "load_model",
    "load_state_strict",
    "official_stage",
    "read_encoder_state",
    "save",
    "save_model",
    "validate",
]
