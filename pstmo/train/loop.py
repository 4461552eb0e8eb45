"""The training loop: one :class:`Trainer` for every stage (read it top to bottom).

``Trainer(cfg).run()`` trains and returns a :class:`RunResult`. Per epoch: shuffled windows
(``WindowBatcher``), one optimizer step per batch (:meth:`Trainer.step`), the stage's validation,
``last.pt`` (resumable) and, when validation improved, ``best.pt``. At the end the stage reports
its test metrics of ``best.pt``. Files in ``<results>/<run>/``: ``config.json``,
``provenance.json``, ``history.csv`` (per epoch), ``steps.csv`` (loss every ``log_every`` steps),
``metrics.json``, ``per_action.csv``, ``last.pt`` (+ ``last.prev.pt``, the one before) and ``best.pt``.

Robustness: one writer per run folder (a lock); a fresh run refuses to replace an existing one
unless ``overwrite``; ``resume`` continues from ``last.pt`` (falling back to ``last.prev.pt`` when
``last.pt`` is unreadable) and refuses a changed configuration (paths excepted, :data:`PATH_FIELDS`:
a run folder moved to another results folder resumes there); a non-finite loss stops the run
with :class:`pstmo.errors.TrainingError`, keeping the last good checkpoint. ``last.pt`` is replaced
atomically and never renamed away (:func:`pstmo.checkpoint.save`), so it always loads; a run folder
that disappears while the run trains stops it (:class:`TrainingError`), it is not re-created.

Scale-out: under ``torchrun`` every process draws the same global batch and trains on its
``rank::world_size`` slice, the loss weighted by the slice size, so the averaged gradient is the
single-process gradient of the global batch (DDP; SyncBatchNorm on CUDA only). ``amp`` (bf16
autocast) and ``compile`` act on CUDA only.

``hooks`` are called as ``hook(trainer)`` after every optimizer step (e.g. to log, or, in the
tests, to kill the process at a known step).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from pstmo import checkpoint
from pstmo.config import RESUMABLE_CHANGES, TrainConfig
from pstmo.data.windows import Batch
from pstmo.errors import CheckpointError, ConfigError, DataError, TrainingError
from pstmo.io import atomic_write, exclusive_lock, write_json
from pstmo.runtime import (
    Dist,
    init_distributed,
    provenance,
    resolve_device,
    rng_state,
    seed_everything,
    set_rng_state,
)
from pstmo.runtime import progress as progress_bar
from pstmo.state import load_state_strict
from pstmo.train.stages import Stage, Validation, make_stage, resumes

#: Files of a run folder (a fresh run with ``overwrite`` removes the old ones first).
RUN_FILES = ("config.json", "provenance.json", "history.csv", "steps.csv", "metrics.json", "per_action.csv",
             "last.pt", "last.prev.pt", "best.pt")  # fmt: skip
HISTORY_COLUMNS = ["epoch", "step", "loss", "lr", "val_metric", "val_name"]
#: Fields that name files or folders: they may differ when a run is resumed (a moved run folder or
#: data set); the weights they led to are in ``last.pt``.
PATH_FIELDS = ("results_dir", "data_dir", "pretrained", "init_from")
Hook = Callable[["Trainer"], None]


@dataclass
class RunResult:
    """What a run produced: its folder, ``best.pt``, the test metrics of ``best.pt``, the
    per-epoch ``history`` and the per-step ``steps`` log (DataFrames)."""

    run_dir: Path
    checkpoint: Path
    metrics: dict[str, Any]
    history: pd.DataFrame
    steps: pd.DataFrame


def load_data(cfg: TrainConfig, dataset: Any = None) -> Any:
    """The run's data set: ``dataset`` if given, else ``cfg.dataset`` loaded from ``cfg.data_dir``;
    with ``selection="val"``, the last ``val_fraction`` of every training sequence is held out as
    split ``"val"`` (``PoseDataset.with_holdout``)."""
    if dataset is None:
        from pstmo.data import load_dataset

        dataset = load_dataset(cfg.dataset, data_dir=cfg.data_dir, keypoints=cfg.keypoints)
    if cfg.selection == "val" and hasattr(dataset, "with_holdout"):
        dataset = dataset.with_holdout(cfg.val_fraction)
    return dataset


def check_window_span(cfg: TrainConfig, dataset: Any) -> None:
    """Refuse windows longer than every training clip (e.g. ``--tds 1000``): they would be mostly padding."""
    lengths = [len(s.pose_2d) for s in dataset.sequences("train")]
    if not lengths:
        raise DataError("the training split has no sequences", key="train")
    span = (cfg.frames - 1) * cfg.tds + 1
    if span > 4 * max(lengths):
        raise ConfigError(
            f"frames={cfg.frames} with tds={cfg.tds} spans {span} frames, more than 4x the longest training clip "
            f"({max(lengths)} frames): the windows would be mostly padding; lower tds or frames"
        )


class Trainer:
    """Trains one stage (see the module docstring). ``step(batch)`` is one optimizer step."""

    def __init__(self, cfg: TrainConfig, dataset: Any = None, hooks: Sequence[Hook] = ()):
        self.cfg, self.hooks = cfg, list(hooks)
        self.device = resolve_device(cfg.device)
        self.dist: Dist = init_distributed(self.device)
        if self.dist.initialised and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        seed_everything(cfg.seed, cfg.deterministic)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.amp = self.compile = False
        if cfg.amp or cfg.compile:
            if self.device.type == "cuda":
                self.amp, self.compile = cfg.amp, cfg.compile
            else:
                warnings.warn(
                    "amp/compile act on CUDA only; running in float32 eager mode on CPU", stacklevel=2
                )
        self.dataset = load_data(cfg, dataset)
        check_window_span(cfg, self.dataset)
        self.stage: Stage = make_stage(cfg, self.dataset, self.device)
        self.model = self.stage.model
        if self.dist.initialised and self.device.type == "cuda":
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer, self.scheduler = self.stage.optimizer(params)
        self.batcher = self.stage.batcher()
        self.epoch, self.step_count, self.best = 0, 0, math.inf
        self.stale = 0  # validations since the last improvement (early stopping, ``patience``)
        self.history: list[dict[str, Any]] = []
        self.step_log: list[dict[str, Any]] = []
        self.epoch_loss, self.epoch_batches, self.mid_epoch = 0.0, 0, False
        self.best_val: Validation | None = None
        self.train_model = self._wrap(self.model)

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.compile:
            model = torch.compile(model)
        if self.dist.initialised:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            model = DistributedDataParallel(model, device_ids=ids)
        return model

    # ------------------------------------------------------------------ files
    @property
    def run_dir(self) -> Path:
        return self.cfg.run_dir

    def state_dict(self, mid_epoch: bool) -> dict[str, Any]:
        """The resumable checkpoint: weights, optimizer, schedule, data order, RNG and counters."""
        return {
            **checkpoint.payload(self.model, self.cfg, self.stage.skeleton),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "batcher": self.batcher.state_dict(), "rng": rng_state(), "stage_state": self.stage.state_dict(),
            "epoch": self.epoch, "step": self.step_count, "best": self.best, "history": self.history,
            "step_log": self.step_log, "epoch_loss": self.epoch_loss, "epoch_batches": self.epoch_batches,
            "mid_epoch": mid_epoch, "stale": self.stale,
        }  # fmt: skip

    def load_state_dict(self, ckpt: dict[str, Any], source: str) -> None:
        load_state_strict(self.model, ckpt["model"], source=source)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.batcher.load_state_dict(ckpt["batcher"])
        set_rng_state(ckpt["rng"])
        self.stage.load_state_dict(ckpt["stage_state"])
        self.epoch, self.step_count, self.best = ckpt["epoch"], ckpt["step"], ckpt["best"]
        self.history, self.step_log = ckpt["history"], ckpt["step_log"]
        self.stale = ckpt.get("stale", 0)
        self.epoch_loss, self.epoch_batches, self.mid_epoch = (
            ckpt["epoch_loss"],
            ckpt["epoch_batches"],
            ckpt["mid_epoch"],
        )

    def require_run_dir(self) -> None:
        """Stop (:class:`TrainingError`) when the run folder has disappeared: it is not re-created."""
        if not self.run_dir.is_dir():
            raise TrainingError(
                f"run folder {self.run_dir} disappeared during training (epoch {self.epoch + 1}, step "
                f"{self.step_count}); stopping without re-creating it"
            )

    def save_last(self, mid_epoch: bool) -> None:
        """``last.pt``, keeping the one before as ``last.prev.pt``: written beside it and replaced
        atomically, never renamed away (:func:`pstmo.checkpoint.save`), so it always loads."""
        if not self.dist.main:
            return
        self.require_run_dir()
        state = self.state_dict(mid_epoch)
        checkpoint.save(
            self.run_dir / "last.pt", state, previous=self.run_dir / "last.prev.pt", parents=False
        )

    def _write_logs(self) -> None:
        with atomic_write(self.run_dir / "history.csv", parents=False) as fh:
            pd.DataFrame(self.history, columns=HISTORY_COLUMNS).to_csv(fh, index=False)
        with atomic_write(self.run_dir / "steps.csv", parents=False) as fh:
            pd.DataFrame(self.step_log, columns=["step", "epoch", "loss", "lr"]).to_csv(fh, index=False)

    def prepare_run_dir(self) -> list[Path]:
        """Resume from ``last.pt`` or plan a fresh start; refuse to replace a run unless ``overwrite``.

        Writes nothing (a refused run leaves the folder as it was); returns the old run files that
        a fresh start with ``overwrite`` removes once the folder is locked.
        """
        cfg, run_dir = self.cfg, self.run_dir
        existing = [n for n in RUN_FILES if (run_dir / n).exists()]
        resuming = resumes(cfg)
        if resuming:
            ckpt, source = self._read_last()
            self._check_resume_config(ckpt, source)
            self.load_state_dict(ckpt, source)
            return []
        if existing and not cfg.overwrite and self.dist.main:
            raise ConfigError(
                f"{run_dir} already holds a run ({', '.join(existing[:3])}); pass resume to continue it, "
                "overwrite to replace it, or another run name"
            )
        return [run_dir / n for n in existing] if self.dist.main else []

    def _read_last(self) -> tuple[dict[str, Any], str]:
        errors = []
        for name in ("last.pt", "last.prev.pt"):
            path = self.run_dir / name
            if not path.is_file():
                continue
            try:
                ckpt = checkpoint.load_checkpoint(path)
            except CheckpointError as exc:
                errors.append(str(exc))
                continue
            if errors:
                warnings.warn(f"{errors[0]}; resuming from {path} instead", stacklevel=2)
            return ckpt, str(path)
        raise CheckpointError("no readable checkpoint to resume from: " + "; ".join(errors))

    def _check_resume_config(self, ckpt: dict[str, Any], source: str) -> None:
        old, new = ckpt["train_config"], self.cfg.to_dict()
        diff = [
            f"{k}: {old.get(k)!r} -> {new[k]!r}"
            for k in new
            if k not in RESUMABLE_CHANGES and k not in PATH_FIELDS and old.get(k) != new[k]
        ]
        if diff:
            raise ConfigError(
                f"{source}: cannot resume with a changed configuration ({'; '.join(diff[:4])}); "
                f"only {', '.join(RESUMABLE_CHANGES[2:])} and the paths ({', '.join(PATH_FIELDS)}) may change"
            )

    # ------------------------------------------------------------------ training
    def step(self, batch: Batch) -> float:
        """One optimizer step on ``batch`` (this rank's slice under DDP); returns the loss."""
        n_global = len(batch)
        if self.dist.initialised:  # every rank draws the global batch and trains on its slice
            batch = _shard(batch, self.dist)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            loss = self.stage.loss(self.train_model, batch)
        if not torch.isfinite(loss.detach()):
            raise TrainingError(
                f"loss became {loss.detach().item()} at epoch {self.epoch + 1}, step {self.step_count + 1} of run "
                f"{self.cfg.name!r}; stopping. The last good checkpoint is kept at {self.run_dir / 'last.pt'}"
            )
        weight = len(batch) * self.dist.world_size / n_global if self.dist.initialised else 1.0
        self.optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        self.optimizer.step()
        if self.stage.schedule_per == "step":
            self.scheduler.step()
        self.step_count += 1
        return loss.detach().item()

    def done(self) -> bool:
        """The epochs or ``max_steps`` are spent, or (``patience``) validation stopped improving."""
        cfg = self.cfg
        return (
            self.epoch >= cfg.epochs
            or (cfg.max_steps is not None and self.step_count >= cfg.max_steps)
            or (cfg.patience > 0 and self.stale >= cfg.patience)
        )

    def run_epoch(self) -> None:
        """Train one epoch (or what is left of it after a resume), validate, checkpoint."""
        cfg = self.cfg
        if not self.mid_epoch:
            self.batcher.set_epoch(self.epoch)
            self.epoch_loss, self.epoch_batches = 0.0, 0
        self.mid_epoch = False
        self.train_model.train()
        bar = progress_bar(self.batcher, cfg.progress if self.dist.main else False,
                           desc=f"{cfg.stage} epoch {self.epoch + 1}/{cfg.epochs}")  # fmt: skip
        for batch in bar:
            loss = self.step(batch)
            self.epoch_loss += loss
            self.epoch_batches += 1
            lr = self.optimizer.param_groups[0]["lr"]
            bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}")
            if self.step_count % max(1, self.log_every) == 0:
                self.step_log.append(
                    {"step": self.step_count, "epoch": self.epoch + 1, "loss": loss, "lr": lr}
                )
            for hook in self.hooks:
                hook(self)
            if cfg.max_steps is not None and self.step_count >= cfg.max_steps:
                break
            if cfg.epoch_steps is not None and self.epoch_batches >= cfg.epoch_steps:
                break
            if cfg.checkpoint_every and self.step_count % cfg.checkpoint_every == 0:
                self.save_last(mid_epoch=True)
                self.dist.barrier()
        self.end_epoch()

    @property
    def log_every(self) -> int:
        """Steps between two entries of the step log: about 100 entries per run, at least every step."""
        per_epoch = self.cfg.epoch_steps or max(len(self.batcher), 1)
        total = self.cfg.max_steps or self.cfg.epochs * per_epoch
        return max(1, total // 100)

    def end_epoch(self) -> None:
        cfg = self.cfg
        lr = self.optimizer.param_groups[0]["lr"]
        if self.stage.schedule_per == "epoch":
            self.scheduler.step()
        finishing = self.epoch + 1 >= cfg.epochs or (
            cfg.max_steps is not None and self.step_count >= cfg.max_steps
        )
        val = None
        if self.dist.main and ((self.epoch + 1) % cfg.eval_every == 0 or finishing):
            val = self.stage.validate(self.model)
        self.history.append({
            "epoch": self.epoch + 1, "step": self.step_count, "loss": self.epoch_loss / max(self.epoch_batches, 1),
            "lr": lr, "val_metric": val.value if val else float("nan"), "val_name": val.name if val else "",
        })  # fmt: skip
        self.epoch += 1
        improved = val is not None and val.value < self.best
        if improved:
            self.best, self.best_val, self.stale = val.value, val, 0
        elif val is not None:
            self.stale += 1
        self.save_last(mid_epoch=False)
        if improved and self.dist.main:
            checkpoint.save(
                self.run_dir / "best.pt",
                checkpoint.payload(self.model, cfg, self.stage.skeleton),
                parents=False,
            )
        if self.dist.main:
            self._write_logs()
        self.dist.barrier()

    def run(self) -> RunResult:
        """Train to the end (or resume and finish), then report the test metrics of ``best.pt``."""
        cfg, run_dir = self.cfg, self.run_dir
        self.dist.barrier()  # every rank looks at the folder before rank 0 changes it
        stale = self.prepare_run_dir()
        self.dist.barrier()
        with exclusive_lock(run_dir, "run folder") if self.dist.main else contextlib.nullcontext():
            for path in stale:
                path.unlink(missing_ok=True)
            if self.dist.main:
                write_json(run_dir / "config.json", cfg.to_dict())
                write_json(
                    run_dir / "provenance.json",
                    provenance(cfg.seed, cfg.deterministic, self.device, self.dataset, self.dist),
                )
            while not self.done():
                self.run_epoch()
            metrics: dict[str, Any] = {}
            best_path = run_dir / "best.pt"
            if self.dist.main:
                self.require_run_dir()
                if not best_path.is_file():  # no validation ever ran: keep the final weights
                    payload = checkpoint.payload(self.model, cfg, self.stage.skeleton)
                    checkpoint.save(best_path, payload, parents=False)
                best, _ = checkpoint.load_model(best_path, device=self.device)
                metrics = self.stage.final_metrics(best, run_dir, self.best_val)
            self.dist.barrier()
        self.dist.close()
        history = pd.DataFrame(self.history, columns=HISTORY_COLUMNS)
        steps = pd.DataFrame(self.step_log, columns=["step", "epoch", "loss", "lr"])
        return RunResult(run_dir, best_path, metrics, history, steps)


def _shard(batch: Batch, dist: Dist) -> Batch:
    """This rank's slice ``rank::world_size`` of a global batch (every tensor field)."""
    fields = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    return Batch(
        **{k: v[dist.rank :: dist.world_size] if torch.is_tensor(v) else v for k, v in fields.items()}
    )


def train(cfg: TrainConfig, dataset: Any = None, hooks: Sequence[Hook] = ()) -> RunResult:
    """Run ``cfg`` (any stage); ``dataset`` (a ``PoseDataset``) replaces ``cfg.dataset``."""
    return Trainer(cfg, dataset, hooks).run()


def pretrain(cfg: TrainConfig, dataset: Any = None, hooks: Sequence[Hook] = ()) -> RunResult:
    """P-STMO Stage I: ``train`` with ``stage="pretrain"``."""
    if cfg.stage != "pretrain":
        raise ConfigError(f"pretrain(cfg) got stage {cfg.stage!r}: use get_profile(..., stage='pretrain')")
    return train(cfg, dataset, hooks)


__all__ = ["RunResult", "Trainer", "pretrain", "train"]
