"""Training: the configuration (``TrainConfig``, profiles), the stages and the loop.

    from pstmo.train import get_profile, train
    pre = train(get_profile("smoke", "pretrain"))                       # P-STMO Stage I (MPM)
    run = train(get_profile("smoke", "lift", pretrained=str(pre.checkpoint)))  # Stage II
    lf  = train(get_profile("smoke", "lift", model="liftformer"))       # LiftFormer
    run.metrics, run.history, run.checkpoint

Follow one training step from the command line to the loss: ``pstmo/commands/train.py`` (flags
-> :class:`TrainConfig`) -> ``pstmo/train/loop.py`` (:meth:`Trainer.step`) ->
``pstmo/train/stages.py`` (``Stage.loss``) -> ``pstmo/losses.py``.
"""

from pstmo.config import PROFILES, STAGES, TrainConfig, get_profile
from pstmo.train.loop import RunResult, Trainer, pretrain, train
from pstmo.train.stages import (
    LiftFormerStage,
    LiftStage,
    PretrainStage,
    RefineStage,
    Stage,
    make_stage,
    noam_lambda,
)

__all__ = [
    "PROFILES",
    "STAGES",
    "LiftFormerStage",
    "LiftStage",
    "PretrainStage",
    "RefineStage",
    "RunResult",
    "Stage",
    "TrainConfig",
    "Trainer",
    "get_profile",
    "make_stage",
    "noam_lambda",
    "pretrain",
    "train",
]
