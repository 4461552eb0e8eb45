"""Training and evaluation engine for P-STMO (Stage I MPM, Stage II lifting) and LiftFormer.

Public API (used by the notebooks and the CLI ``pstmo pretrain | train | evaluate``)::

    cfg = get_profile("smoke", stage="train")            # -> TrainConfig; "paper" for the papers
    run = train(cfg)                                     # -> RunResult(run_dir, checkpoint, metrics, history)
    pre = pretrain(get_profile("smoke", stage="pretrain"))
    cfg = get_profile("smoke", stage="train", pretrained=str(pre.checkpoint))
    lf  = train(get_profile("smoke", stage="liftformer"))
    res = evaluate(run.checkpoint, dataset="demo", split="test", flip=True)
    res.mpjpe, res.p_mpjpe, res.n_mpjpe, res.mpjve     # millimetres (MPJVE in mm per frame)
    res.per_action                                      # DataFrame, the papers' 15-action column order
    res.predictions                                     # list[SequencePrediction] (pred/target (T, J, 3))
    resolve_device("auto")                              # cuda if available, else cpu

Stages (``TrainConfig.stage``):

- ``"pretrain"`` (P-STMO Stage I, masked pose modeling): the MPM model sees the 2D window
  ``(B, N, J, 2)`` corrupted by a temporal mask ``(N,)`` and/or a spatial mask ``(N, J)``
  (``mask_strategy`` = ``"temporal" | "spatial" | "spatio-temporal"``) and reconstructs all N
  frames; loss = mean 2D joint distance over all frames. The checkpoint with the lowest
  reconstruction error on the test split (fixed masks) is kept as ``best.pt``.
- ``"train"`` (P-STMO Stage II): loss = single-frame MPJPE (middle frame, after MOFA)
  + ``lambda_multi`` x multi-frame MPJPE (all N frames, after TEM) (Eq. 8-9). Adam with
  amsgrad, lr multiplied by ``lr_decay`` after every epoch. ``pretrained`` loads the
  Stage I encoder (SEM + TEM). Test-time flip augmentation averages the prediction of the
  horizontally flipped input (flipped back). ``best.pt`` = lowest test MPJPE.
  ``refine=True`` (the paper's (*) rows) adds the refinement module: it blends the predicted
  x, y with the 2D input back-projected at the predicted depth (camera intrinsics, ground-truth
  root depth, as the official code); the loss is the MPJPE of the refined pose, usually
  starting from a trained Stage II model (``init_from``) with a small lr.
- ``"liftformer"``: MPJPE loss on the middle frame, Adam with the Noam schedule
  ``lr = factor * d^-0.5 * min(step^-0.5, step * warmup^-1.5)`` (warm-up 1000, factor 12).

Every run writes ``<results_dir>/<run_name>/``: ``config.json`` (resolved config),
``provenance.json`` (package/torch version, git commit, device, seed, dataset fingerprint),
``history.csv`` (epoch, step, loss, lr, val metric), ``metrics.json``, ``per_action.csv``,
``last.pt`` (resumable: model, optimizer, scheduler, RNG states, data-order position) and
``best.pt``. Checkpoints are written atomically (``pstmo.io.atomic_write``), every epoch and
every ``checkpoint_every`` steps; ``resume=True`` continues from ``last.pt``. A non-finite
loss stops the run with :class:`TrainingError` and leaves the last good checkpoint.

Speed and scale-out: ``amp=True`` (bf16 autocast) and ``compile=True`` (``torch.compile``)
act on CUDA only (warning and no-op on CPU). Under ``torchrun`` (``WORLD_SIZE > 1``) the
run is data-parallel (DDP; nccl on CUDA, gloo on CPU): every process draws the same global
batch and trains on its ``rank::world_size`` slice, the loss weighted by the slice size, so
the averaged gradient equals the single-process gradient of the global batch. BatchNorm
is converted to SyncBatchNorm on CUDA; on CPU (gloo) SyncBatchNorm is not available, so
BatchNorm statistics are per process there (LiftFormer has no BatchNorm and matches exactly).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import random
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pstmo import metrics as M
from pstmo.errors import CheckpointError, DataError, PstmoError
from pstmo.io import atomic_write, write_json
from pstmo.losses import lift_loss, mpm_loss
from pstmo.masking import STRATEGIES as MASK_STRATEGIES
from pstmo.skeleton import H36M_ACTION_LABELS, H36M_ACTIONS, flip_permutation

STAGES = ("pretrain", "train", "liftformer")
CHECKPOINT_FORMAT = "pstmo-checkpoint-v1"
#: Fault injection for the kill/resume test: SIGKILL the process after this global step.
KILL_ENV = "PSTMO_KILL_AT_STEP"


class TrainingError(PstmoError, RuntimeError):
    """Training cannot continue (e.g. the loss became NaN or infinite)."""


# --------------------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """Everything a run needs; ``get_profile`` fills in the papers' or the smoke settings."""

    stage: str = "train"  # "pretrain" | "train" | "liftformer"
    model: str = "p-stmo-s"  # pstmo.models preset: "p-stmo-s" | "p-stmo" | "liftformer"
    model_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {"channel": 32}
    # data
    dataset: str = "demo"
    data_dir: str | None = None
    keypoints: str = "gt"
    frames: int = 243  # receptive field N
    tds: int = 1  # temporal downsampling rate s
    pad_mode: str = "edge"  # training windows: "edge" (both sides) or "official" (see pstmo.data.windows)
    flip: bool = True  # flip augmentation: random flips in training, averaged at test time
    # optimisation
    epochs: int = 80
    max_steps: int | None = None  # stop after this many optimizer steps in total
    batch_size: int = 160
    lr: float = 7e-4
    lr_decay: float = 0.97  # per epoch (P-STMO); LiftFormer uses the Noam schedule instead
    lambda_multi: float = 1.0  # weight of the multi-frame loss (Stage II)
    warmup: int = 1000  # Noam warm-up steps (LiftFormer)
    noam_factor: float = 12.0
    # Stage I masking
    mask_strategy: str = "spatio-temporal"
    mask_ratio: float = 0.8  # temporal masking ratio
    mask_joints: int = 2  # joints masked per frame (spatial masking)
    pretrained: str | None = None  # Stage I checkpoint whose encoder initialises Stage II
    refine: bool = False  # P-STMO (*) rows: train the refinement module (needs intrinsics, root depth)
    init_from: str | None = None  # pstmo checkpoint whose weights initialise the model (refiner excepted)
    # evaluation during training
    eval_every: int = 1  # epochs
    eval_max_frames: int | None = None  # cap test frames per sequence (smoke); None = all frames
    # runtime
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    compile: bool = False
    deterministic: bool = False
    threads: int | None = None  # torch CPU threads for this run (smoke: 1, fastest for tiny models)
    checkpoint_every: int = 0  # also checkpoint every K steps (0: once per epoch)
    progress: bool | None = None  # tqdm bars; None = only on a terminal / notebook
    results_dir: str | None = None  # default: <repo>/results
    run_name: str | None = None  # default: "<stage>-<model>-<dataset>-f<frames>"
    resume: bool = False

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        if self.mask_strategy not in MASK_STRATEGIES:
            raise ValueError(f"mask_strategy must be one of {MASK_STRATEGIES}, got {self.mask_strategy!r}")
        if self.frames < 1 or self.frames % 2 == 0:
            raise ValueError(f"frames must be a positive odd number, got {self.frames}")
        if self.refine and self.stage != "train":
            raise ValueError("refine=True needs stage 'train' (P-STMO Stage II)")
        if (self.stage == "liftformer") != (self.model == "liftformer"):
            raise ValueError(
                f"stage {self.stage!r} does not train model {self.model!r}: LiftFormer uses stage 'liftformer'"
            )

    @property
    def name(self) -> str:
        return self.run_name or f"{self.stage}-{self.model}-{self.dataset}-f{self.frames}"

    @property
    def run_dir(self) -> Path:
        if self.results_dir is not None:
            return Path(self.results_dir) / self.name
        from pstmo.paths import results_dir

        return results_dir(self.name, create=False)


_SMOKE_MODEL = {
    "p-stmo-s": {"channel": 32, "hidden": 64, "layers": 2, "heads": 4},
    "p-stmo": {"channel": 32, "hidden": 64, "layers": 3, "heads": 4},
    "liftformer": {"dim": 32, "ff_dim": 64, "blocks": 2, "heads": 4},
}


def get_profile(name: str = "smoke", stage: str = "train", **overrides: Any) -> TrainConfig:
    """``smoke`` (demo data, tiny model, a few short epochs: seconds on a CPU) or ``paper``.

    ``paper`` follows the official README: Stage I lr 1e-4; Stage II lr 7e-4 (P-STMO-S with CPN
    keypoints) or 1e-3, decay 0.97, batch 160, 80 epochs, N = 243; LiftFormer Noam (warm-up 1000,
    factor 12), 80 epochs, batch 1536 for N = 243. ``overrides`` replace any field.
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    model = overrides.get("model", "liftformer" if stage == "liftformer" else "p-stmo-s")
    if stage == "train" and model == "liftformer":
        stage = "liftformer"
    if name == "smoke":
        base: dict[str, Any] = dict(
            stage=stage, model=model, model_overrides=dict(_SMOKE_MODEL.get(model, {})), dataset="demo",
            frames=27, tds=1, epochs=2, max_steps=100, batch_size=32, eval_max_frames=64, eval_every=2, threads=1,
            lr={"pretrain": 2e-3, "train": 2e-3, "liftformer": 1.0}[stage], warmup=20, noam_factor=0.1,
        )  # fmt: skip
    elif name == "paper":
        keypoints = overrides.get("keypoints", "cpn_ft_h36m_dbb")
        base = dict(stage=stage, model=model, dataset="h36m", keypoints=keypoints, frames=243, epochs=80)
        if stage == "pretrain":
            base.update(lr=1e-4, batch_size=160, tds=2)
        elif stage == "train":
            small_cpn = model == "p-stmo-s" and keypoints != "gt"
            base.update(lr=7e-4 if small_cpn else 1e-3, lr_decay=0.97, batch_size=160, tds=2)
        else:
            base.update(lr=1.0, batch_size=1536, warmup=1000, noam_factor=12.0, tds=1)
    else:
        raise ValueError(f"unknown profile {name!r}: use 'smoke' or 'paper'")
    base.update(overrides)
    base["stage"] = stage
    if base.get("dataset") == "humaneva":  # 15-joint skeleton
        base["model_overrides"] = {"joints": 15, **base.get("model_overrides", {})}
    return TrainConfig(**base)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` (the local rank's GPU under torchrun) if available, else ``cpu``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    return torch.device(device)


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """What a training run produced: ``run_dir``, the ``best.pt`` checkpoint, final metrics and
    the training curve ``history`` (DataFrame: epoch, step, loss, lr, val_metric)."""

    run_dir: Path
    checkpoint: Path
    metrics: dict[str, Any]
    history: Any  # pandas.DataFrame


@dataclass
class SequencePrediction:
    """Prediction for one test sequence: ``pred`` and ``target`` ``(T, J, 3)`` metres."""

    subject: str
    action: str
    camera: Any
    pose_2d: np.ndarray
    pred: np.ndarray
    target: np.ndarray


@dataclass
class EvalResult:
    """Protocol 1-3 errors in mm (MPJVE in mm per frame), as the papers average them:
    per action, then the unweighted mean over actions. ``per_action`` is a DataFrame with
    rows MPJPE / P-MPJPE / N-MPJPE / MPJVE and the action columns in the papers' order."""

    mpjpe: float
    p_mpjpe: float
    n_mpjpe: float
    mpjve: float
    per_action: Any  # pandas.DataFrame
    predictions: list[SequencePrediction]
    pck: float | None = None
    auc: float | None = None
    frames: int = 0
    per_subject_action: Any = None  # HumanEva: P-MPJPE per (action, subject), LiftFormer Table 5

    @property
    def metrics(self) -> dict[str, float]:
        out = {"mpjpe": self.mpjpe, "p_mpjpe": self.p_mpjpe, "n_mpjpe": self.n_mpjpe, "mpjve": self.mpjve}
        if self.pck is not None:
            out.update(pck=self.pck, auc=self.auc)
        out["frames"] = self.frames
        return out


# --------------------------------------------------------------------------- models and checkpoints


def _model_config(preset: str, frames: int, overrides: dict[str, Any]):
    from pstmo.models import get_config

    return get_config(preset, **{"frames": frames, **overrides})


def build_stage_model(cfg: TrainConfig) -> tuple[nn.Module, Any]:
    """The model a stage trains: MPM (Stage I), STMO (Stage II) or LiftFormer; returns (model, config)."""
    from pstmo import models

    overrides = {**cfg.model_overrides, **({"refine": True} if cfg.refine else {})}
    mcfg = _model_config(cfg.model, cfg.frames, overrides)
    if cfg.stage == "pretrain":
        return models.MPM(mcfg), mcfg
    return models.build_model(mcfg), mcfg


def _config_dict(mcfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(mcfg) if dataclasses.is_dataclass(mcfg) else dict(vars(mcfg))


def _unwrap(model: nn.Module) -> nn.Module:
    model = getattr(model, "module", model)  # DDP
    return getattr(model, "_orig_mod", model)  # torch.compile


def load_state_checked(
    model: nn.Module, state_dict: dict[str, torch.Tensor], source: str = "checkpoint"
) -> None:
    """``model.load_state_dict`` that names every missing, unexpected or mis-shaped key.

    Raises :class:`pstmo.errors.CheckpointError` when the checkpoint was made for another
    configuration (e.g. other channel width, frame count or layer count).
    """
    own = _unwrap(model).state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches, e.g. " + "; ".join(shapes[:3]))
        if missing:
            parts.append(f"{len(missing)} missing keys, e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys, e.g. {unexpected[:3]}")
        raise CheckpointError(
            f"{source}: does not fit {type(_unwrap(model)).__name__} of this configuration: "
            + "; ".join(parts)
        )
    _unwrap(model).load_state_dict(state_dict)


def _torch_load(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or not a torch file
        raise CheckpointError(f"{path}: cannot be read as a torch checkpoint ({exc})") from exc


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``pstmo`` checkpoint (``last.pt`` / ``best.pt``) written by this engine."""
    ckpt = _torch_load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a pstmo checkpoint (key 'format' != {CHECKPOINT_FORMAT!r})")
    return ckpt


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model of a ``pstmo`` checkpoint or of a released official P-STMO checkpoint.

    Returns ``(model in eval mode, info)`` with ``info`` holding ``stage``, ``frames``, ``tds``.
    Official checkpoints (state dicts with ``module.``-prefixed names) go through
    :func:`pstmo.load_official_checkpoint` after the architecture is read off the shapes.
    """
    raw = _torch_load(path)
    if isinstance(raw, dict) and raw.get("format") == CHECKPOINT_FORMAT:
        cfg = TrainConfig(**raw["train_config"])
        model, _ = build_stage_model(cfg)
        load_state_checked(model, raw["model"], source=str(path))
        info = {"stage": cfg.stage, "frames": cfg.frames, "tds": cfg.tds, "train_config": raw["train_config"]}
    else:
        from pstmo.models import build_model
        from pstmo.official import load_official_checkpoint, read_state_dict

        state = read_state_dict(path)
        mcfg = infer_official_config(state, source=str(path))
        model = build_model(mcfg)
        load_official_checkpoint(model, state)
        # A state dict does not record the TDS rate it was trained with. The paper's 243-frame
        # results (Table 1: 42.8 / 43.0 mm) are its s = 2 models (Table 3 "+TDS", Table 5), so
        # 243-frame official checkpoints default to tds = 2; pass tds= to override.
        official_tds = 2 if mcfg.frames == 243 else 1
        info = {"stage": "train", "frames": mcfg.frames, "tds": official_tds, "official": True}
    return model.to(resolve_device(device)).eval(), info


def infer_official_config(state: dict[str, torch.Tensor], source: str = "checkpoint"):
    """The ``STMOConfig`` of an official Stage II state dict, read off its shapes.

    Thin wrapper of :func:`pstmo.official.config_from_state_dict`: frames N and channel C from
    ``Transformer.pos_embedding (1, N, C)``, TEM layers from the layer count, hidden H from
    ``feed_forward.w_1``, SEM width and blocks from ``encoder.*``; MOFA strides from the
    official table for N.
    """
    from pstmo.official import config_from_state_dict

    if not any(k.removeprefix("module.").startswith("Transformer_reduce.") for k in state):
        raise CheckpointError(
            f"{source}: no 'Transformer_reduce.*' (MOFA) keys: not an official Stage II state dict"
        )
    try:
        return config_from_state_dict(state)
    except ValueError as exc:
        raise CheckpointError(f"{source}: cannot infer the P-STMO configuration: {exc}") from exc


# --------------------------------------------------------------------------- runtime helpers


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch; ``deterministic`` also turns on deterministic algorithms."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


@dataclass
class _Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialised: bool = False
    created: bool = False  # this run called init_process_group (and destroys it at the end)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.initialised:
            torch.distributed.barrier()


def init_distributed(device: torch.device) -> _Dist:
    """Initialise ``torch.distributed`` from torchrun's env vars when ``WORLD_SIZE > 1``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    import torch.distributed as dist

    created = not dist.is_initialized()
    if created:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), True, created)


def _rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states, as types ``torch.load(weights_only=True)`` reads."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def noam_lambda(d_model: int, warmup: int = 1000, factor: float = 12.0):
    """Noam schedule multiplier: ``factor * d^-0.5 * min(step^-0.5, step * warmup^-1.5)``, step >= 1."""

    def fn(step: int) -> float:
        step = step + 1  # LambdaLR counts from 0
        return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)

    return fn


def _progress(iterable, cfg: TrainConfig, dist: _Dist, **kwargs):
    from tqdm.auto import tqdm

    disable = (not dist.main) or (None if cfg.progress is None else not cfg.progress)
    return tqdm(iterable, disable=disable, leave=False, dynamic_ncols=True, **kwargs)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def dataset_fingerprint(dataset: Any) -> str:
    """The dataset's own fingerprint (hash of its source files) if it has one, else SHA-256
    (first 16 hex digits) over every train and test sequence's keys and arrays."""
    own = getattr(dataset, "fingerprint", None)
    if own is not None:
        with contextlib.suppress(Exception):
            return str(own() if callable(own) else own)
    h = hashlib.sha256()
    for split in ("train", "test"):
        for seq in dataset.sequences(split):
            h.update(f"{split}|{seq.subject}|{seq.action}|{seq.camera}".encode())
            h.update(np.ascontiguousarray(seq.pose_2d, dtype=np.float32).tobytes())
            h.update(np.ascontiguousarray(seq.pose_3d, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def _provenance(cfg: TrainConfig, device: torch.device, dataset: Any, dist: _Dist) -> dict[str, Any]:
    from pstmo import __version__

    return {
        "pstmo_version": __version__,
        "git_commit": _git_commit(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "world_size": dist.world_size,
        "seed": cfg.seed,
        "deterministic": cfg.deterministic,
        "dataset": cfg.dataset,
        "keypoints": cfg.keypoints,
        "dataset_fingerprint": dataset_fingerprint(dataset),
        "command": " ".join(sys.argv),
    }


# --------------------------------------------------------------------------- windows and prediction


def sequence_windows(pose_2d: np.ndarray | torch.Tensor, frames: int, tds: int = 1) -> torch.Tensor:
    """All N-frame windows of a sequence, one centred on every frame: ``(T, J, 2) -> (T, N, J, 2)``.

    Window ``t`` holds frames ``t + k * tds`` for ``k in [-(N-1)/2, (N-1)/2]`` (TDS), the
    sequence edge-padded (replicating the first/last frame) as in the official test code.
    """
    from pstmo.data.windows import window_indices

    x = torch.as_tensor(np.asarray(pose_2d, dtype=np.float32)) if not torch.is_tensor(pose_2d) else pose_2d
    T = x.shape[0]
    return x[window_indices(torch.arange(T), torch.full((T,), T), frames, tds)]


def flip_2d(x: torch.Tensor, perm: list[int] | None = None) -> torch.Tensor:
    """Horizontal flip of normalised 2D poses ``(..., J, 2)``: negate x, swap left/right joints.

    ``perm`` is the skeleton's left/right permutation (default: Human3.6M's).
    """
    from pstmo.data.windows import flip_poses

    return flip_poses(x, perm if perm is not None else flip_permutation(x.shape[-2]))


def flip_3d(y: torch.Tensor, perm: list[int] | None = None) -> torch.Tensor:
    """Undo the flip on 3D poses ``(..., J, 3)``: negate x, swap left/right joints."""
    return flip_2d(y, perm)


@torch.no_grad()
def predict(
    model: nn.Module,
    windows: torch.Tensor,
    flip: bool = True,
    batch_size: int = 1024,
    perm: list[int] | None = None,
) -> torch.Tensor:
    """Middle-frame 3D poses of windows ``(B, N, J, 2) -> (B, J, 3)`` on the model's device.

    With ``flip`` the prediction of the flipped input is flipped back and averaged with the
    plain prediction (test-time augmentation of P-STMO and LiftFormer).
    """
    device = next(model.parameters()).device
    outs = []
    for chunk in windows.split(batch_size):
        chunk = chunk.to(device)
        pred = model(chunk).center[:, 0].float()
        if flip:
            pred = (pred + flip_3d(model(flip_2d(chunk, perm)).center[:, 0].float(), perm)) / 2
        outs.append(pred.cpu())
    return torch.cat(outs) if outs else torch.zeros(0, windows.shape[-2], 3)


def _load_dataset(name_or_dataset: Any, data_dir: str | None = None, keypoints: str = "gt"):
    if not isinstance(name_or_dataset, str):
        return name_or_dataset
    from pstmo.data import load_dataset

    return load_dataset(name_or_dataset, data_dir=data_dir, keypoints=keypoints)


def _evaluate_sequences(
    model: nn.Module,
    sequences: list,
    frames: int,
    tds: int,
    flip: bool,
    max_frames: int | None = None,
    with_pck: bool = False,
    batch_size: int = 1024,
    skeleton: Any = None,
    root: int = 0,
) -> EvalResult:
    """Predict every frame of ``sequences`` and score it (frames with ``valid == False`` are
    predicted but not scored, as the MPI-INF-3DHP protocol wants)."""
    import pandas as pd

    perm = skeleton.flip_permutation() if skeleton is not None else None

    was_training = model.training
    model.eval()
    preds: list[SequencePrediction] = []
    scored: list[np.ndarray | None] = []
    for seq in sequences:
        pose_2d = np.asarray(seq.pose_2d, dtype=np.float32)
        target = np.asarray(seq.pose_3d, dtype=np.float32)
        if pose_2d.ndim != 3 or pose_2d.shape[-1] != 2 or target.shape[:2] != pose_2d.shape[:2]:
            raise DataError(
                f"sequence {seq.subject}/{seq.action}: pose_2d {pose_2d.shape} must be (T, J, 2) and "
                f"pose_3d {target.shape} (T, J, 3) with the same T and J",
                key="pose_2d",
            )
        windows = sequence_windows(pose_2d, frames, tds)
        if max_frames is not None:  # score the first frames, windows taken from the whole sequence
            windows, pose_2d, target = windows[:max_frames], pose_2d[:max_frames], target[:max_frames]
        pred = predict(model, windows, flip=flip, batch_size=batch_size, perm=perm)
        if getattr(model, "refiner", None) is not None:  # P-STMO (*): refine the averaged prediction
            n = len(pred)
            k = torch.as_tensor(_normalised_intrinsics(seq)).expand(n, 4)
            depth = torch.as_tensor(_root_depth(seq)[:n])
            device = next(model.parameters()).device
            with torch.no_grad():
                pred = (
                    model.refine_center(
                        pred[:, None].to(device),
                        windows.to(device),
                        k[:, :2].to(device),
                        k[:, 2:].to(device),
                        depth.to(device),
                    )[:, 0]
                    .float()
                    .cpu()
                )
        pred = pred.numpy()
        pred[:, root] = 0.0  # root-relative targets: the root is the origin (as the official test)
        valid = getattr(seq, "valid", None)
        preds.append(SequencePrediction(seq.subject, seq.action, seq.camera, pose_2d, pred, target))
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)[: len(pred)]
        scored.append(valid)
    model.train(was_training)
    if not preds:
        raise DataError("no sequences to evaluate", key="sequences")

    keep = [np.ones(len(p.pred), bool) if v is None else v for p, v in zip(preds, scored)]
    pred_all = np.concatenate([p.pred[k] for p, k in zip(preds, keep)])
    tgt_all = np.concatenate([p.target[k] for p, k in zip(preds, keep)])
    actions = [p.action for p, k in zip(preds, keep) for _ in range(int(k.sum()))]
    vel_actions = [p.action for p in preds for _ in range(max(len(p.pred) - 1, 0))]
    per_frame = {
        "MPJPE": M.mpjpe(pred_all, tgt_all, scale=1000.0, reduction="none"),
        "P-MPJPE": M.p_mpjpe(pred_all, tgt_all, scale=1000.0, reduction="none"),
        "N-MPJPE": M.n_mpjpe(pred_all, tgt_all, scale=1000.0, reduction="none"),
    }
    vel = [M.mpjve(p.pred, p.target, scale=1000.0, reduction="none") for p in preds if len(p.pred) > 1]
    canon = {M.canonical_action(a) for a in actions}
    if canon <= set(H36M_ACTIONS):
        order, labels = H36M_ACTIONS, H36M_ACTION_LABELS
    else:  # other datasets: actions in order of appearance
        order, labels = tuple(dict.fromkeys(M.canonical_action(a) for a in actions)), None
    rows = [M.action_table(v, actions, order=order, labels=labels, name=k) for k, v in per_frame.items()]
    if vel:
        rows.append(
            M.action_table(np.concatenate(vel), vel_actions, order=order, labels=labels, name="MPJVE")
        )
    table = pd.concat(rows)
    humaneva = None
    if canon <= {"Walk", "Jog", "Box"}:
        subjects = [p.subject for p, k in zip(preds, keep) for _ in range(int(k.sum()))]
        humaneva = M.humaneva_table(per_frame["P-MPJPE"], subjects, actions)
    pck_v = auc_v = None
    if with_pck:
        pck_v = float(M.pck(pred_all, tgt_all, scale=1000.0))
        auc_v = float(M.auc(pred_all, tgt_all, scale=1000.0))
    return EvalResult(
        mpjpe=float(table.loc["MPJPE", "Avg"]),
        p_mpjpe=float(table.loc["P-MPJPE", "Avg"]),
        n_mpjpe=float(table.loc["N-MPJPE", "Avg"]),
        mpjve=float(table.loc["MPJVE", "Avg"]) if vel else float("nan"),
        per_action=table,
        predictions=preds,
        pck=pck_v,
        auc=auc_v,
        frames=len(pred_all),
        per_subject_action=humaneva,
    )


def evaluate(
    checkpoint_or_model: str | os.PathLike | nn.Module,
    dataset: Any = "demo",
    split: str = "test",
    flip: bool = True,
    *,
    frames: int | None = None,
    tds: int | None = None,
    data_dir: str | None = None,
    keypoints: str = "gt",
    subjects: list[str] | None = None,
    actions: list[str] | None = None,
    pck: bool = False,
    max_frames: int | None = None,
    device: str = "auto",
    batch_size: int = 1024,
) -> EvalResult:
    """Evaluate a lifting model (P-STMO Stage II or LiftFormer) on every frame of a split.

    ``checkpoint_or_model``: a ``pstmo`` checkpoint path, a released official P-STMO checkpoint,
    or an ``nn.Module`` (then pass ``frames``). ``dataset``: a name for
    :func:`pstmo.data.load_dataset` or a ``PoseDataset``. Every frame gets the edge-padded window
    centred on it; ``flip`` averages with the flipped input. Errors in mm, averaged per action,
    then over actions (the papers' protocol). ``pck=True`` adds PCK@150mm and AUC (MPI-INF-3DHP).
    """
    if isinstance(checkpoint_or_model, nn.Module):
        model = checkpoint_or_model
        info: dict[str, Any] = {"frames": frames or getattr(getattr(model, "config", None), "frames", None)}
        if info["frames"] is None:
            raise ValueError("evaluate(model, ...) needs frames=N for a bare model")
        info["tds"] = tds or 1
    else:
        model, info = load_model(checkpoint_or_model, device=device)
        if info["stage"] == "pretrain":
            raise CheckpointError(
                f"{checkpoint_or_model}: a Stage I (pretrain) checkpoint cannot be evaluated in 3D"
            )
    ds = _load_dataset(dataset, data_dir=data_dir, keypoints=keypoints)
    sequences = ds.sequences(split, subjects=subjects, actions=actions)
    return _evaluate_sequences(
        model,
        sequences,
        frames=frames or info["frames"],
        tds=tds or info["tds"],
        flip=flip,
        max_frames=max_frames,
        with_pck=pck,
        batch_size=batch_size,
        skeleton=getattr(ds, "skeleton", None),
        root=getattr(ds, "root_joint", 0),
    )


# --------------------------------------------------------------------------- training


def _masks(cfg: TrainConfig, joints: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Stage I masks for one batch: temporal ``(N,)`` and spatial ``(N, J)`` (True = masked)."""
    from pstmo import masking

    return masking.stage1_masks(
        cfg.frames, joints, strategy=cfg.mask_strategy, ratio=cfg.mask_ratio, count=cfg.mask_joints,
        generator=generator,
    )  # fmt: skip


def _normalised_intrinsics(seq: Any) -> np.ndarray:
    """``[fx, fy, cx, cy]`` of a sequence's camera in normalised screen units (VideoPose3D)."""
    from pstmo.cameras import intrinsic_vector

    intr = getattr(seq, "intrinsics", None) or {}
    if intr.get("focal", intr.get("focal_length")) is None or intr.get("center") is None:
        raise DataError(
            f"sequence {seq.subject}/{seq.action}: the refinement module needs camera intrinsics "
            "(Sequence.intrinsics 'focal' and 'center', pixels)",
            key="intrinsics",
        )
    return intrinsic_vector({**intr, "res_w": seq.res_w, "res_h": seq.res_h}, normalized=True)[:4]


def _root_depth(seq: Any) -> np.ndarray:
    if getattr(seq, "root_3d", None) is None:
        raise DataError(
            f"sequence {seq.subject}/{seq.action}: the refinement module needs the root trajectory "
            "(Sequence.root_3d (T, 3), camera frame)",
            key="root_3d",
        )
    return np.asarray(seq.root_3d, dtype=np.float32)[: len(seq.pose_2d), 2]


@dataclass
class _Cameras:
    """Per-target camera data for the refinement module: normalised intrinsics ``(S, 4)`` per
    sequence, ground-truth root depth ``(M,)`` per flat target (the official code's choice)."""

    intrinsics: torch.Tensor
    root_depth: torch.Tensor
    target_seq: torch.Tensor

    @classmethod
    def from_sequences(cls, sequences: list, device: torch.device) -> _Cameras:
        intr = torch.as_tensor(np.stack([_normalised_intrinsics(s) for s in sequences]), device=device)
        depth = torch.as_tensor(np.concatenate([_root_depth(s) for s in sequences]), device=device)
        seq = torch.repeat_interleave(
            torch.arange(len(sequences)), torch.tensor([len(s.pose_2d) for s in sequences])
        )
        return cls(intr, depth, seq.to(device))

    def for_batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``focal (B, 2)``, ``principal (B, 2)`` (cx negated for flipped windows), ``root_depth (B,)``."""
        k = self.intrinsics[self.target_seq[batch.index]]
        principal = k[:, 2:].clone()
        principal[:, 0] = torch.where(batch.flipped, -principal[:, 0], principal[:, 0])
        return k[:, :2], principal, self.root_depth[batch.index]


def compute_loss(
    model: nn.Module,
    batch: Any,
    cfg: TrainConfig,
    generator: torch.Generator | None = None,
    cameras: _Cameras | None = None,
) -> torch.Tensor:
    """The stage's training loss for one batch (mean over the batch).

    Stage I: mean 2D joint distance between the reconstruction and the clean input, all frames.
    Stage II: MPJPE(center) + lambda * MPJPE(frames); with ``refine``, MPJPE of the refined
    center pose only (as the official refinement stage). LiftFormer: MPJPE(center).
    """
    x = batch.pose_2d
    if cfg.stage == "pretrain":
        t_mask, s_mask = _masks(cfg, x.shape[-2], generator)
        recon = model(x, t_mask.to(x.device), s_mask.to(x.device))
        return mpm_loss(recon, x)
    out = model(x)
    if cfg.refine:
        focal, principal, root_depth = cameras.for_batch(batch)
        refined = _unwrap(model).refine_center(out.center, x, focal, principal, root_depth)
        return M.mpjpe(refined.float(), batch.center_3d)
    return lift_loss(out.center, batch.center_3d, out.frames, batch.pose_3d, cfg.lambda_multi)


@torch.no_grad()
def _reconstruction_error(model: nn.Module, ds: Any, cfg: TrainConfig, device: torch.device) -> float:
    """Stage I validation: 2D reconstruction error (normalised units) with fixed-seed masks."""
    from pstmo.data import WindowBatcher

    was = model.training
    model.eval()
    gen = torch.Generator().manual_seed(cfg.seed + 12345)
    sequences = ds.sequences("test")
    batcher = WindowBatcher(
        sequences, frames=cfg.frames, tds=cfg.tds, batch_size=max(cfg.batch_size, 256), shuffle=False,
        seed=cfg.seed, flip=False, device=device, reuse_buffers=True,
    )  # fmt: skip
    total, count = 0.0, 0
    for batch in batcher:
        loss = compute_loss(model, batch, cfg, gen)
        total += float(loss) * len(batch)
        count += len(batch)
        if cfg.eval_max_frames is not None and count >= cfg.eval_max_frames * max(len(sequences), 1):
            break
    model.train(was)
    return total / max(count, 1)


def _evaluate_dataset(
    model: nn.Module, ds: Any, cfg: TrainConfig, max_frames: int | None = None
) -> EvalResult:
    return _evaluate_sequences(
        _unwrap(model), ds.sequences("test"), cfg.frames, cfg.tds, flip=cfg.flip, max_frames=max_frames,
        skeleton=getattr(ds, "skeleton", None), root=getattr(ds, "root_joint", 0),
    )  # fmt: skip


def _validate(model: nn.Module, ds: Any, cfg: TrainConfig, device: torch.device) -> tuple[str, float, Any]:
    """Validation metric on the test split (the official code selects checkpoints on it)."""
    if cfg.stage == "pretrain":
        return "recon_2d", _reconstruction_error(model, ds, cfg, device), None
    res = _evaluate_dataset(model, ds, cfg, cfg.eval_max_frames)
    return "mpjpe", res.mpjpe, res


def _shard(batch: Any, dist: _Dist) -> Any:
    """This rank's slice ``rank::world_size`` of a global batch (every tensor field)."""
    fields = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    return type(batch)(
        **{k: v[dist.rank :: dist.world_size] if torch.is_tensor(v) else v for k, v in fields.items()}
    )


def _save(path: Path, obj: dict[str, Any]) -> None:
    with atomic_write(path, "wb") as fh:
        torch.save(obj, fh)


def save_model(model: nn.Module, cfg: TrainConfig, path: str | os.PathLike) -> Path:
    """Write ``model`` (built for ``cfg``, e.g. by :func:`build_stage_model`) as a ``pstmo``
    checkpoint that :func:`load_model`, :func:`evaluate` and ``pstmo lift`` read. Weights and
    configuration only: no optimizer or data-order state, so it cannot be resumed."""
    path = Path(path)
    net = _unwrap(model)
    _save(
        path,
        {
            "format": CHECKPOINT_FORMAT, "stage": cfg.stage, "train_config": dataclasses.asdict(cfg),
            "model_config": _config_dict(net.cfg), "model": net.state_dict(),
        },
    )  # fmt: skip
    return path


def _history_frame(rows: list[dict[str, Any]]):
    import pandas as pd

    return pd.DataFrame(rows, columns=["epoch", "step", "loss", "lr", "val_metric", "val_name"])


def _check_resume_config(ckpt: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    keys = ("stage", "model", "model_overrides", "frames", "tds", "dataset", "keypoints", "batch_size")
    old = ckpt["train_config"]
    diff = [
        f"{k}: checkpoint {old.get(k)!r} vs now {getattr(cfg, k)!r}"
        for k in keys
        if old.get(k) != getattr(cfg, k)
    ]
    if diff:
        raise CheckpointError(f"{path}: cannot resume a run with another configuration: " + "; ".join(diff))


def _run(cfg: TrainConfig, dataset: Any = None) -> RunResult:
    from pstmo.data import WindowBatcher

    device = resolve_device(cfg.device)
    dist = init_distributed(device)
    if dist.initialised and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    seed_everything(cfg.seed, cfg.deterministic)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    use_amp, use_compile = cfg.amp, cfg.compile
    if device.type != "cuda" and (use_amp or use_compile):
        warnings.warn("amp/compile act on CUDA only; running in float32 eager mode on CPU", stacklevel=2)
        use_amp = use_compile = False

    run_dir = cfg.run_dir
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    ds = _load_dataset(dataset if dataset is not None else cfg.dataset, cfg.data_dir, cfg.keypoints)
    train_seqs = ds.sequences("train")

    model, mcfg = build_stage_model(cfg)
    if cfg.stage == "train" and cfg.pretrained:
        pre = load_checkpoint(cfg.pretrained)
        if pre["stage"] != "pretrain":
            raise CheckpointError(
                f"{cfg.pretrained}: key 'stage' is {pre['stage']!r}, expected a pretrain run"
            )
        try:
            model.load_pretrained_encoder(pre["model"])
        except (RuntimeError, KeyError) as exc:
            raise CheckpointError(
                f"{cfg.pretrained}: Stage I encoder does not fit this model: {exc}"
            ) from exc
    if cfg.init_from:  # e.g. a trained Stage II model before the refinement stage
        state = load_checkpoint(cfg.init_from)["model"]
        own = model.state_dict()
        state = {k: v for k, v in state.items() if not k.startswith("refiner.")}
        state.update({k: v for k, v in own.items() if k.startswith("refiner.")})
        load_state_checked(model, state, source=str(cfg.init_from))
    model.to(device)
    cameras = _Cameras.from_sequences(train_seqs, device) if cfg.refine else None
    if dist.initialised and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)

    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.stage == "liftformer":
        d_model = getattr(mcfg, "dim", None) or mcfg.channel
        optimizer = torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.98), eps=1e-9)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, noam_lambda(d_model, cfg.warmup, cfg.noam_factor)
        )
    else:
        optimizer = torch.optim.Adam(params, lr=cfg.lr, amsgrad=True)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
    batcher = WindowBatcher(
        train_seqs, frames=cfg.frames, tds=cfg.tds, batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed,
        flip=cfg.flip, device=device, skeleton=getattr(ds, "skeleton", None), pad_mode=cfg.pad_mode,
        reuse_buffers=True,  # each batch is consumed before the next is drawn
    )  # fmt: skip
    mask_gen = torch.Generator().manual_seed(cfg.seed + 1)

    epoch, step, best, history = 0, 0, math.inf, []
    best_res: EvalResult | None = None  # evaluation of best.pt, when made by this process
    epoch_loss, epoch_batches, mid_epoch = 0.0, 0, False
    if cfg.resume and last_path.is_file():
        ckpt = load_checkpoint(last_path)
        _check_resume_config(ckpt, cfg, last_path)
        load_state_checked(model, ckpt["model"], source=str(last_path))
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        batcher.load_state_dict(ckpt["batcher"])
        _set_rng_state(ckpt["rng"])
        mask_gen.set_state(ckpt["mask_generator"])
        epoch, step, best, history = ckpt["epoch"], ckpt["step"], ckpt["best"], ckpt["history"]
        epoch_loss, epoch_batches, mid_epoch = ckpt["epoch_loss"], ckpt["epoch_batches"], ckpt["mid_epoch"]

    train_model = model
    if use_compile:
        train_model = torch.compile(train_model)
    if dist.initialised:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            train_model, device_ids=[device.index] if device.type == "cuda" else None
        )

    def checkpoint(path: Path, *, mid: bool) -> None:
        if not dist.main:
            return
        _save(
            path,
            {
                "format": CHECKPOINT_FORMAT, "stage": cfg.stage, "train_config": dataclasses.asdict(cfg),
                "model_config": _config_dict(mcfg), "model": _unwrap(model).state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "batcher": batcher.state_dict(), "rng": _rng_state(), "mask_generator": mask_gen.get_state(),
                "epoch": epoch, "step": step, "best": best, "history": history, "epoch_loss": epoch_loss,
                "epoch_batches": epoch_batches, "mid_epoch": mid,
            },
        )  # fmt: skip

    if dist.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", {**dataclasses.asdict(cfg), "model_config": _config_dict(mcfg)})
        write_json(run_dir / "provenance.json", _provenance(cfg, device, ds, dist))

    kill_at = int(os.environ.get(KILL_ENV, "0") or 0)
    done = cfg.max_steps is not None and step >= cfg.max_steps
    while epoch < cfg.epochs and not done:
        if not mid_epoch:
            batcher.set_epoch(epoch)
            epoch_loss, epoch_batches = 0.0, 0
        mid_epoch = False
        train_model.train()
        bar = _progress(batcher, cfg, dist, desc=f"{cfg.stage} epoch {epoch + 1}/{cfg.epochs}")
        for batch in bar:
            n_global = len(batch)
            if dist.initialised:  # every rank draws the global batch and trains on its slice
                batch = _shard(batch, dist)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = compute_loss(train_model, batch, cfg, mask_gen, cameras)
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"loss became {loss.detach().item()} at epoch {epoch + 1}, step {step + 1} of run {cfg.name!r}; "
                    f"stopping. The last good checkpoint is kept at {last_path}"
                )
            weight = len(batch) * dist.world_size / n_global if dist.initialised else 1.0
            optimizer.zero_grad(set_to_none=True)
            (loss * weight).backward()
            optimizer.step()
            if cfg.stage == "liftformer":
                scheduler.step()
            step += 1
            loss_value = loss.detach().item()
            epoch_loss += loss_value
            epoch_batches += 1
            bar.set_postfix(loss=f"{loss_value:.4f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}")
            if cfg.max_steps is not None and step >= cfg.max_steps:
                done = True
                break
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                checkpoint(last_path, mid=True)
                dist.barrier()
            if kill_at and step == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        lr = optimizer.param_groups[0]["lr"]
        if cfg.stage != "liftformer":
            scheduler.step()
        val_name, val, val_res = "", float("nan"), None
        is_last = done or epoch + 1 >= cfg.epochs
        if dist.main and ((epoch + 1) % max(cfg.eval_every, 1) == 0 or is_last):
            val_name, val, val_res = _validate(model, ds, cfg, device)
        history.append(
            {"epoch": epoch + 1, "step": step, "loss": epoch_loss / max(epoch_batches, 1), "lr": lr,
             "val_metric": val, "val_name": val_name}
        )  # fmt: skip
        epoch += 1
        improved = dist.main and not math.isnan(val) and val < best
        if improved:
            best, best_res = val, val_res
        checkpoint(last_path, mid=False)
        if improved:
            checkpoint(best_path, mid=False)
        if dist.main:
            _history_frame(history).to_csv(run_dir / "history.csv.tmp", index=False)
            os.replace(run_dir / "history.csv.tmp", run_dir / "history.csv")
        dist.barrier()

    result_metrics: dict[str, Any] = {}
    if dist.main:
        if not best_path.is_file():  # no validation ever ran: keep the final weights
            checkpoint(best_path, mid=False)
        result_metrics = _final_metrics(cfg, best_path, ds, device, run_dir, best, best_res)
    dist.barrier()
    if dist.created:
        torch.distributed.destroy_process_group()
    return RunResult(run_dir, best_path, result_metrics, _history_frame(history))


def _final_metrics(
    cfg: TrainConfig,
    best_path: Path,
    ds: Any,
    device: torch.device,
    run_dir: Path,
    best: float,
    res: EvalResult | None = None,
) -> dict[str, Any]:
    """Test metrics of ``best.pt`` (every test frame, or the first ``eval_max_frames`` of each
    sequence); write ``metrics.json`` and ``per_action.csv``. ``res`` reuses the validation
    of ``best.pt`` made in this process."""
    if cfg.stage == "pretrain":
        out: dict[str, Any] = {"stage": cfg.stage, "recon_2d": best}
        write_json(run_dir / "metrics.json", out)
        return out
    if res is None:
        model, _ = load_model(best_path, device=device)
        res = _evaluate_dataset(model, ds, cfg, cfg.eval_max_frames)
    out = {"stage": cfg.stage, **res.metrics, "flip": cfg.flip, "eval_max_frames": cfg.eval_max_frames}
    write_json(run_dir / "metrics.json", out)
    with atomic_write(run_dir / "per_action.csv") as fh:
        res.per_action.to_csv(fh)
    return out


def pretrain(cfg: TrainConfig, dataset: Any = None) -> RunResult:
    """P-STMO Stage I: masked pose modeling. ``dataset`` optionally replaces ``cfg.dataset``."""
    if cfg.stage != "pretrain":
        cfg = dataclasses.replace(cfg, stage="pretrain")
    return _run(cfg, dataset)


def train(cfg: TrainConfig, dataset: Any = None) -> RunResult:
    """P-STMO Stage II (``stage="train"``) or LiftFormer (``stage="liftformer"``)."""
    if cfg.stage == "pretrain":
        raise ValueError("train(cfg) got stage='pretrain': use pretrain(cfg)")
    return _run(cfg, dataset)


def config_from_json(path: str | os.PathLike) -> TrainConfig:
    """Rebuild a ``TrainConfig`` from a run's ``config.json``."""
    data = json.loads(Path(path).read_text())
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in data.items() if k in names})


__all__ = [
    "save_model",
    "EvalResult",
    "RunResult",
    "SequencePrediction",
    "TrainConfig",
    "TrainingError",
    "build_stage_model",
    "compute_loss",
    "dataset_fingerprint",
    "evaluate",
    "flip_2d",
    "get_profile",
    "infer_official_config",
    "load_checkpoint",
    "load_model",
    "load_state_checked",
    "noam_lambda",
    "predict",
    "pretrain",
    "resolve_device",
    "seed_everything",
    "sequence_windows",
    "train",
]
