"""The configuration of a training run (:class:`TrainConfig`) and the named profiles.

A run is one **stage** of one **model** on one data set:

- ``stage="pretrain"``: P-STMO Stage I, masked pose modeling (MPM) of 2D sequences;
- ``stage="lift"``: P-STMO Stage II (STMO) or LiftFormer, lifting 2D windows to 3D;
- ``stage="refine"``: P-STMO's (*) rows, the refinement module on top of a Stage II model.

``TrainConfig.model`` is the typed model configuration itself (:class:`pstmo.models.STMOConfig`
or :class:`pstmo.models.LiftFormerConfig`), so a run's window size is ``cfg.model.frames``
(also ``cfg.frames``). Every field is checked once, here, with one sentence naming the value and
its allowed range (:class:`pstmo.errors.ConfigError`).

Profiles are data (:data:`PROFILES`): ``smoke`` (the embedded demo data, tiny models, seconds on a
CPU; numbers are not the papers') and ``paper`` (the papers' settings, for a GPU).
``get_profile(name, stage, model=..., **overrides)`` builds the config.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pstmo import registry
from pstmo.errors import ConfigError
from pstmo.models.config import PRESETS, LiftFormerConfig, STMOConfig, get_config
from pstmo.official.recipes import OFFICIAL_RECIPES, Recipe
from pstmo.options import option
from pstmo.registry import MASK_MODES, PAD_MODES
from pstmo.registry import MASK_STRATEGIES as STRATEGIES

STAGES = ("pretrain", "lift", "refine")
#: Which split selects ``best.pt``: "val" (held out from the training subjects, the default) or
#: "test" (the official code's behaviour: it selects on the test split, see docs/FIDELITY.md).
SELECTIONS = ("val", "test")
PRETRAIN_SELECTIONS = ("recon", "official")
DATASETS = tuple(registry.DATASETS)  # the names of pstmo.registry.DATASETS
ModelConfig = STMOConfig | LiftFormerConfig
#: Fields that may change when a run is resumed (everything else must match the checkpoint).
RESUMABLE_CHANGES = (
    "resume", "overwrite", "progress", "device", "threads", "epochs", "max_steps", "checkpoint_every", "eval_every",
    "patience", "results_dir",
)  # fmt: skip
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")


@dataclass
class TrainConfig:
    """Everything a run needs. Build it with :func:`get_profile`; see the module docstring."""

    model: ModelConfig = option(default_factory=lambda: get_config("p-stmo-s"), help="model configuration")
    stage: str = option("lift", "pretrain (Stage I), lift (Stage II / LiftFormer) or refine", STAGES)
    preset: str = option("p-stmo-s", "model preset the config was made from (labels the run)", PRESETS)
    # data
    dataset: str = option("demo", "data set", DATASETS)
    data_dir: str | None = option(None, "folder with the data set files (not needed for demo)")
    keypoints: str = option("gt", "2D keypoints: gt, det or a detector name")
    tds: int = option(1, "temporal downsampling rate s (window frames t + k*s)")
    pad_mode: str = option("edge", "window padding at clip ends", PAD_MODES)
    flip: bool = option(True, "flip augmentation in training, flip averaging in validation")
    # optimisation
    epochs: int = option(80, "number of epochs")
    max_steps: int | None = option(None, "stop after this many optimizer steps in total")
    batch_size: int = option(160, "global batch size")
    lr: float = option(7e-4, "learning rate (LiftFormer: factor of the Noam schedule)")
    lr_decay: float = option(0.97, "lr multiplier per epoch (P-STMO)")
    lambda_multi: float = option(1.0, "weight of the multi-frame loss (Stage II)")
    warmup: int = option(1000, "Noam warm-up steps (LiftFormer)")
    noam_factor: float = option(12.0, "Noam factor (LiftFormer)")
    # Stage I masking
    mask_strategy: str = option("spatio-temporal", "Stage I masking strategy", STRATEGIES)
    mask_ratio: float = option(0.8, "Stage I temporal masking ratio q^T, in [0, 1)")
    mask_joints: int = option(2, "Stage I joints masked per frame m^S")
    mask_mode: str = option(
        "paper", "Stage I mask distribution: the paper's or the official code's", MASK_MODES
    )
    pretrain_selection: str = option(
        "recon",
        "Stage I best.pt: recon (2D error, fixed masks) or official (with flip, mean per action)",
        PRETRAIN_SELECTIONS,
    )
    # initialisation
    pretrained: str | None = option(
        None, "Stage I checkpoint (pstmo or official) whose encoder initialises Stage II"
    )
    init_from: str | None = option(
        None, "pstmo checkpoint whose weights initialise the model (refine: a Stage II run)"
    )
    # validation during training (the reported test metrics always use the whole test split)
    selection: str = option(
        "val",
        "split that selects best.pt: val (held out from the training subjects) or test (official)",
        SELECTIONS,
    )
    val_fraction: float = option(0.1, "selection=val: last fraction of every training sequence held out")
    patience: int = option(0, "early stopping: stop after this many validations without improvement (0: off)")
    epoch_steps: int | None = option(None, "at most this many optimizer steps per epoch (None: one pass over the windows)")
    eval_every: int = option(1, "validate every K epochs")
    eval_max_frames: int | None = option(
        None, "cap frames per test sequence in validation (not in reported metrics)"
    )
    # runtime
    seed: int = option(0, "random seed")
    device: str = option("auto", "auto, cpu, cuda or cuda:K")
    amp: bool = option(False, "bf16 autocast (CUDA only)")
    compile: bool = option(False, "torch.compile (CUDA only)")
    deterministic: bool = option(False, "deterministic algorithms (bit-exact resume)")
    threads: int | None = option(None, "torch CPU threads")
    checkpoint_every: int = option(0, "also write last.pt every K steps (0: once per epoch)")
    progress: bool | None = option(None, "progress bars (default: on a terminal or in a notebook)")
    results_dir: str | None = option(None, "results root (default <repo>/results)")
    run_name: str | None = option(None, "run folder name (default <stage>-<preset>-<dataset>-f<N>)")
    resume: bool = option(False, "continue from <run>/last.pt")
    overwrite: bool = option(False, "replace an existing run of the same name")

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = model_config_from_dict(self.model)
        self.validate()

    # ------------------------------------------------------------------ derived values
    @property
    def frames(self) -> int:
        """The window size N (receptive field in tokens), ``model.frames``."""
        return self.model.frames

    @property
    def is_liftformer(self) -> bool:
        return isinstance(self.model, LiftFormerConfig)

    @property
    def name(self) -> str:
        return self.run_name or f"{self.stage}-{self.preset}-{self.dataset}-f{self.frames}"

    @property
    def run_dir(self) -> Path:
        if self.results_dir is not None:
            return Path(self.results_dir) / self.name
        from pstmo.paths import results_dir

        return results_dir(self.name, create=False)

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first value outside its allowed range."""
        _choice("stage", self.stage, STAGES)
        _choice("pad_mode", self.pad_mode, PAD_MODES)
        _choice("mask_strategy", self.mask_strategy, STRATEGIES)
        _choice("mask_mode", self.mask_mode, MASK_MODES)
        _choice("pretrain_selection", self.pretrain_selection, PRETRAIN_SELECTIONS)
        _choice("selection", self.selection, SELECTIONS)
        _choice("dataset", self.dataset, DATASETS)
        if not isinstance(self.model, (STMOConfig, LiftFormerConfig)):
            raise ConfigError(
                f"model must be an STMOConfig or LiftFormerConfig, got {type(self.model).__name__}"
            )
        for key in ("tds", "epochs", "batch_size", "warmup", "eval_every"):
            _at_least(key, getattr(self, key), 1)
        _at_least("patience", self.patience, 0)
        if not (isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 0.5):
            raise ConfigError(f"val_fraction={self.val_fraction!r}: must be in (0, 0.5)")
        for key in ("max_steps", "eval_max_frames", "threads", "epoch_steps"):
            if getattr(self, key) is not None:
                _at_least(key, getattr(self, key), 1)
        _at_least("checkpoint_every", self.checkpoint_every, 0)
        _positive("lr", self.lr)
        _positive("noam_factor", self.noam_factor)
        _finite("lambda_multi", self.lambda_multi)
        if self.lambda_multi < 0:
            raise ConfigError(f"lambda_multi={self.lambda_multi}: must be >= 0")
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ConfigError(f"lr_decay={self.lr_decay}: must be in (0, 1] (1 = no decay)")
        if not (isinstance(self.mask_ratio, (int, float)) and 0 <= self.mask_ratio < 1):
            raise ConfigError(f"mask_ratio={self.mask_ratio}: must be in [0, 1)")
        if not 0 <= self.mask_joints <= self.model.joints:
            raise ConfigError(f"mask_joints={self.mask_joints}: must be in [0, {self.model.joints}]")
        if self.run_name is not None and (not _RUN_NAME.match(self.run_name) or ".." in self.run_name):
            raise ConfigError(
                f"run_name={self.run_name!r}: use letters, digits and . _ + = - only (no path separators), "
                "so that the run stays inside the results folder"
            )
        if self.is_liftformer and self.stage != "lift":
            raise ConfigError(
                f"stage {self.stage!r} does not apply to LiftFormer: it trains with stage 'lift'"
            )
        if self.stage == "refine" and not self.model.refine:
            raise ConfigError("stage 'refine' needs a model built with refine=True (get_profile sets it)")

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; the model config carries its type under ``"type"``."""
        out = dataclasses.asdict(self)
        out["model"] = model_config_to_dict(self.model)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown training option(s) {unknown}; known: {sorted(names)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def _choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r}: choose one of {', '.join(map(str, allowed))}")


def _at_least(key: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{key}={value!r}: must be an integer >= {low}")


def _finite(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{key}={value!r}: must be a finite number")


def _positive(key: str, value: Any) -> None:
    _finite(key, value)
    if value <= 0:
        raise ConfigError(f"{key}={value!r}: must be > 0")


def model_config_to_dict(cfg: ModelConfig) -> dict[str, Any]:
    return {"type": type(cfg).__name__, **dataclasses.asdict(cfg)}


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    """Rebuild a model config written by :func:`model_config_to_dict`."""
    data = dict(data)
    kind = data.pop("type", "STMOConfig")
    cls = {"STMOConfig": STMOConfig, "LiftFormerConfig": LiftFormerConfig}.get(kind)
    if cls is None:
        raise ConfigError(f"model type {kind!r}: expected STMOConfig or LiftFormerConfig")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown {kind} option(s) {unknown}; known: {sorted(names)}")
    try:
        return cls(**data)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{kind}: {exc}") from None


# ---------------------------------------------------------------------------------- profiles

#: Named profiles as data: settings common to all stages, per stage, per model preset, and the
#: model sizes. ``get_profile`` merges ``common``, the stage's entry (``liftformer`` for LiftFormer)
#: and the caller's overrides, in that order.
#: The small model sizes of the CPU profiles (smoke and demo share them).
SMALL_MODELS: dict[str, dict[str, int]] = {
    "p-stmo-s": dict(channel=32, hidden=64, layers=2, heads=4),
    "p-stmo": dict(channel=32, hidden=64, layers=3, heads=4),
    "liftformer": dict(dim=32, ff_dim=64, blocks=2, heads=4),
}

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {
        "doc": "embedded demo data, tiny models, 100 steps: seconds per run on a CPU (numbers are not the papers')",
        "frames": 27,
        "ablation_frames": 9,  # N of the notebooks' ablation cells (Notebook.frames)
        "seeds": 3,  # an ablation cell is the mean ± std of this many seeds (pstmo.report.findings)
        "common": dict(
            dataset="demo",
            tds=1,
            epochs=2,
            max_steps=100,
            batch_size=32,
            eval_max_frames=64,
            eval_every=2,
            threads=1,
        ),  # fmt: skip
        "stages": {
            "pretrain": dict(lr=2e-3),
            "lift": dict(lr=2e-3),
            "refine": dict(lr=2e-3),
            # Noam with warm-up 20 and the factor that gives the paper's peak lr at the smoke width:
            # 0.424 * 32^-0.5 * 20^-0.5 = 12 * 512^-0.5 * 1000^-0.5 = 0.0168 (LiftFormer Sec. 4)
            "liftformer": dict(lr=1.0, warmup=20, noam_factor=0.424),
        },
        "models": SMALL_MODELS,
    },
    "demo": {
        "doc": "embedded demo data, small models trained to a plateau on a CPU: early stopping on a split held "
        "out from the training subjects, one to three minutes per run (numbers are not the papers')",
        "frames": 27,
        "ablation_frames": 9,
        "seeds": 3,
        # notebooks whose rows spread 2-2.5 mm over seeds (Fig. 4's temporal masking, Table 4's MLP L = 2):
        # 6 seeds bring 2 standard errors of a difference to <= 2.5 mm (3 seeds: 3.4 and 3.0 mm)
        "notebook_seeds": {"01_masked_pose_modeling": 6, "06_sem_backbone": 6},
        "common": dict(
            dataset="demo",
            tds=1,
            epochs=40,
            epoch_steps=250,  # an "epoch" here is at most 250 steps: validation, lr decay and patience count them
            max_steps=2500,
            batch_size=128,
            lr_decay=0.8,
            selection="val",
            val_fraction=0.1,
            patience=3,
            eval_every=1,
            threads=1,
        ),  # fmt: skip
        "stages": {
            "pretrain": dict(lr=4e-3),
            "lift": dict(lr=4e-3),
            "refine": dict(lr=1e-3),
            # Noam: warm-up 250 steps, peak lr 0.36 x 32^-0.5 x 250^-0.5 = 4.0e-3 at width 32
            "liftformer": dict(lr=1.0, warmup=250, noam_factor=0.36),
        },
        "models": SMALL_MODELS,
    },
    "paper": {
        "doc": "the papers' settings on real data, for a GPU: P-STMO from the official README recipes "
        "(pstmo.official.recipes.OFFICIAL_RECIPES), LiftFormer from its paper (Sec. 4)",
        "frames": 243,
        "seeds": 1,
        "common": dict(dataset="h36m", batch_size=160, lr_decay=0.97),  # keypoints: the data set's (registry)
        "stages": {
            # LiftFormer Sec. 4: 80 epochs on Human3.6M (1000 on HumanEva), Noam warm-up 1000, factor 12,
            # batch 5120 / 3072 / 1536 for N = 27 / 81 / 243; no TDS
            "liftformer": dict(lr=1.0, epochs=80, warmup=1000, noam_factor=12.0, tds=1),
        },
        "liftformer_batch": {27: 5120, 81: 3072, 243: 1536},
        "liftformer_epochs": {"humaneva": 1000},
        "models": {},
    },
}

#: How the paper profile reads a recipe: TrainConfig field <- OFFICIAL_RECIPES field.
RECIPE_TO_CONFIG = {"tds": "tds", "batch_size": "batch_size", "lr": "lr", "lr_decay": "lr_decay",
                    "epochs": "epochs", "mask_ratio": "mask_ratio", "mask_joints": "mask_joints"}  # fmt: skip


def official_recipe(stage: str, model: str, dataset: str, keypoints: str) -> Recipe | None:
    """The official README recipe closest to a run: same stage (``refine`` trains like Stage II; the
    README has no refinement-training command), model, data set and keypoints, else the same stage,
    model and data set, else P-STMO-S's. None when the data set has no recipe (HumanEva)."""
    official_stage = {"pretrain": "pretrain", "lift": "train", "refine": "train"}[stage]
    keypoints = registry.dataset(dataset).detector(keypoints)
    rows = [r for r in OFFICIAL_RECIPES.values() if r.stage == official_stage and r.dataset == dataset]
    for match in (
        lambda r: r.model == model and r.keypoints == keypoints,
        lambda r: r.model == model,
        lambda r: r.model == "p-stmo-s" and r.keypoints == keypoints,
        lambda r: r.model == "p-stmo-s",
    ):
        found = [r for r in rows if match(r)]
        if found:
            return found[0]
    return None


def _paper_values(
    stage: str, model: str, dataset: str, keypoints: str, frames: int | None
) -> tuple[dict, int]:
    """The paper profile's training values and window size N for this stage, model and data."""
    prof = PROFILES["paper"]
    if model == "liftformer":
        n = frames or prof["frames"]
        out = {**prof["stages"]["liftformer"], "batch_size": prof["liftformer_batch"].get(n, 1536)}
        out["epochs"] = prof["liftformer_epochs"].get(dataset, out["epochs"])
        return out, n
    recipe = official_recipe(stage, model, dataset, keypoints)
    if recipe is None:
        return {}, frames or prof["frames"]
    out = {k: getattr(recipe, v) for k, v in RECIPE_TO_CONFIG.items() if getattr(recipe, v) is not None}
    return out, frames or recipe.frames


def profile_seeds(name: str, first: int = 0, count: int | None = None, notebook: str | None = None) -> list[int]:
    """The seeds of an ablation cell in profile ``name``: ``first, first + 1, ...`` (``count``
    of them; default the profile's ``notebook_seeds`` of ``notebook``, else its ``seeds``)."""
    if name not in PROFILES:
        raise ConfigError(f"profile {name!r}: choose one of {', '.join(PROFILES)}")
    default = PROFILES[name].get("notebook_seeds", {}).get(notebook, PROFILES[name]["seeds"])
    n = default if count is None else count
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"seeds={n!r}: must be an integer >= 1")
    return list(range(first, first + n))


def stretched_schedule(name: str, factor: int = 2, stage: str = "lift", model: str = "p-stmo-s") -> dict[str, Any]:
    """Training overrides that run profile ``name``'s schedule over ``factor`` times the steps and
    end at the same learning rate (``max_steps`` and ``epochs`` x ``factor``, per-epoch ``lr_decay``
    to the power ``1 / factor``), for a row that is still improving at the profile's cap. Empty for
    a profile without a step cap (``paper``: the papers' epochs) and for LiftFormer (Noam, no decay)."""
    if factor < 1:
        raise ConfigError(f"factor: expected an integer >= 1, got {factor!r}")
    cfg = get_profile(name, stage, model)
    if cfg.max_steps is None or model == "liftformer":
        return {}
    return dict(max_steps=cfg.max_steps * factor, epochs=cfg.epochs * factor, lr_decay=cfg.lr_decay ** (1 / factor))


def get_profile(
    name: str = "smoke",
    stage: str = "lift",
    model: str = "p-stmo-s",
    *,
    frames: int | None = None,
    model_overrides: dict[str, Any] | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The :class:`TrainConfig` of profile ``name`` for ``stage`` and model preset ``model``.

    ``frames`` sets the window size N, ``model_overrides`` any other field of the model config
    (on top of the profile's model size); ``overrides`` replace training fields, e.g.
    ``get_profile("smoke", "lift", model="liftformer", frames=9, epochs=1)``.
    """
    if name not in PROFILES:
        raise ConfigError(f"profile {name!r}: choose one of {', '.join(PROFILES)}")
    _choice("stage", stage, STAGES)
    _choice("model", model, PRESETS)
    prof = PROFILES[name]
    stage_key = "liftformer" if model == "liftformer" else stage
    values: dict[str, Any] = {**prof["common"], **prof["stages"].get(stage_key, {})}
    default_frames = prof["frames"]
    if name == "paper":
        dataset = overrides.get("dataset", values["dataset"])
        values["keypoints"] = overrides.get("keypoints", registry.dataset(dataset).keypoints)
        paper, default_frames = _paper_values(stage, model, dataset, values["keypoints"], frames)
        values.update(paper)
    values.update(overrides)
    mo = dict(copy.deepcopy(prof["models"].get(model, {})))
    info = registry.DATASETS.get(values.get("dataset"))  # an unknown name: TrainConfig says so
    if info is not None and info.joints != 17:  # HumanEva-I's 15 joints
        mo["joints"] = info.joints
    if stage == "refine":
        mo["refine"] = True
    mo.update(model_overrides or {})
    mo["frames"] = frames if frames is not None else mo.get("frames", default_frames)
    try:
        mcfg = get_config(model, **mo)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {model}: {exc}") from None
    return TrainConfig(model=mcfg, stage=stage, preset=model, **values)


__all__ = [
    "profile_seeds",
    "DATASETS",
    "MASK_MODES",
    "PROFILES",
    "STAGES",
    "TrainConfig",
    "get_profile",
    "model_config_from_dict",
]
