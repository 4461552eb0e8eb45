"""The recipes of the official P-STMO README, as data (the spec of the ``paper`` profiles).

``OFFICIAL_RECIPES[name]`` holds, for every command of the official README (commit
``OFFICIAL_README_COMMIT`` of https://github.com/paTRICK-swk/P-STMO), the settings it runs
with: the README's flags plus the defaults of ``common/opt.py`` it leaves implicit. Each entry
cites its source: ``readme`` = ``(line, exact command text)`` of the README, and for the rows
of the per-model tables ``readme_table`` = ``(line, exact table row)``; ``official`` is the
command that row implies (the base command with the row's ``-k`` / ``--layers`` / ``-tmr`` /
``-smn`` / ``--lr``). ``pstmo`` is the equivalent ``pstmo`` command (None where there is none
yet). ``docs/FIDELITY.md`` prints the same table; a test keeps the two and the flags of both
commands in agreement.

Fields: ``script`` (run.py, run_3dhp.py, run_in_the_wild.py), ``stage`` ("pretrain" = Stage I
``--MAE``, "train" = Stage II, "evaluate" = ``--reload 1``), ``model`` (``pstmo.models``
preset: "p-stmo-s" = 3 TEM layers, "p-stmo" = 4), ``dataset``, ``keypoints`` (``-k``; the
default is ``cpn_ft_h36m_dbb``; ``run_3dhp.py`` ignores ``-k`` and reads the ground-truth 2D
of ``data_*_3dhp.npz``, hence "gt"), ``layers``, ``frames`` (N, ``-f``), ``tds`` (s, ``-tds``,
default 1), ``stride`` (``-s``, chunk length, default 1), ``batch_size`` (``-b``, default 160;
also the test batch size, which the official P-MPJPE depends on, see
``pstmo.metrics.p_mpjpe_official``), ``lr``, ``lr_decay`` (``-lrd``, per epoch), ``epochs``
(epochs actually trained: the official loop is ``for epoch in range(1, opt.nepoch)`` with
``nepoch`` 80, i.e. **79**; 0 for evaluations), ``mask_ratio`` (q^T, ``-tmr``), ``mask_joints``
(m^S, ``-smn``), ``refine``.

``OFFICIAL_DEFAULTS``: the ``common/opt.py`` defaults every recipe shares. The large decay
(x0.5 at epochs divisible by 80) never fires in 79 epochs, so the lr of epoch e (1-based) is
``lr * lr_decay ** (e - 1)``.

The README gives no command that *trains* the refinement module; it only evaluates released
refine checkpoints (``h36m-p-stmo-cpn-refine-eval``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["OFFICIAL_DEFAULTS", "OFFICIAL_README_COMMIT", "OFFICIAL_RECIPES", "RECIPE_FIELDS", "Recipe"]

#: Commit of the official repository whose README the recipes were read from.
OFFICIAL_README_COMMIT = "aea43d0131e39d8a963598d88331f3f28055afee"

#: Defaults of the official ``common/opt.py`` that the README commands leave implicit.
OFFICIAL_DEFAULTS: dict[str, Any] = {
    "nepoch": 80,  # for epoch in range(1, nepoch): 79 epochs
    "channel": 256,
    "d_hid": 512,
    "batch_size": 160,
    "lr_decay": 0.95,  # every README training command passes -lrd 0.97
    "lr_decay_large": 0.5,
    "large_decay_epoch": 80,  # never reached in 79 epochs
    "stride": 1,
    "tds": 1,
    "keypoints": "cpn_ft_h36m_dbb",
    "data_augmentation": True,  # flip in training
    "reverse_augmentation": False,
    "test_augmentation": True,  # flip averaging at test time (also for Stage I checkpoint selection)
    "manual_seed": 1,
    "optimizer": "Adam(amsgrad=True)",
}



@dataclass(frozen=True)
class Recipe:
    """One command of the official README with the settings it runs with (module docstring);
    ``None``: the setting does not apply (no masks in Stage II, no command in pstmo)."""

    script: str
    stage: str
    model: str
    dataset: str
    keypoints: str
    layers: int
    frames: int
    tds: int
    stride: int
    batch_size: int
    lr: float | None
    lr_decay: float | None
    epochs: int
    mask_ratio: float | None
    mask_joints: int | None
    refine: bool
    readme: tuple[int, str] | None
    readme_table: tuple[int, str] | None
    official: str
    pstmo: str | None



#: The fields of every recipe, in table order.
RECIPE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Recipe))

#: name -> settings of each official README command (see the module docstring).
OFFICIAL_RECIPES: dict[str, Recipe] = {
    "h36m-p-stmo-s-gt-stage1": Recipe(
        script="run.py",
        stage="pretrain",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="gt",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=0.8,
        mask_joints=7,
        refine=False,
        readme=(
            74,
            "python run.py -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        ),
        readme_table=(79, "| P-STMO-S (GT)| gt | 3 | 0.8 | 7 |"),
        official="python run.py -k gt -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 7 --lr 0.0001 -lrd 0.97",
        pstmo="pstmo pretrain --profile paper --dataset h36m --data-dir DATA --keypoints gt --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.0001 --lr-decay 0.97 --epochs 79 --mask-ratio 0.8 --mask-joints 7 --mask-mode official",
    ),
    "h36m-p-stmo-s-cpn-stage1": Recipe(
        script="run.py",
        stage="pretrain",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=0.8,
        mask_joints=2,
        refine=False,
        readme=(
            74,
            "python run.py -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        ),
        readme_table=(80, "| P-STMO-S | default | 3 | 0.8 | 2 |"),
        official="python run.py -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        pstmo="pstmo pretrain --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.0001 --lr-decay 0.97 --epochs 79 --mask-ratio 0.8 --mask-joints 2 --mask-mode official",
    ),
    "h36m-p-stmo-cpn-stage1": Recipe(
        script="run.py",
        stage="pretrain",
        model="p-stmo",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=4,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=0.6,
        mask_joints=3,
        refine=False,
        readme=(
            74,
            "python run.py -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        ),
        readme_table=(81, "| P-STMO | default | 4 | 0.6 | 3 |"),
        official="python run.py -f 243 -b 160 --MAE --train 1 --layers 4 -tds 2 -tmr 0.6 -smn 3 --lr 0.0001 -lrd 0.97",
        pstmo="pstmo pretrain --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --model p-stmo --frames 243 --tds 2 --batch-size 160 --lr 0.0001 --lr-decay 0.97 --epochs 79 --mask-ratio 0.6 --mask-joints 3 --mask-mode official",
    ),
    "h36m-p-stmo-s-gt-stage2": Recipe(
        script="run.py",
        stage="train",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="gt",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            85,
            "python run.py -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        ),
        readme_table=(90, "| P-STMO-S (GT)| gt | 3 | 0.001 |"),
        official="python run.py -k gt -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.001 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        pstmo="pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints gt --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.001 --lr-decay 0.97 --epochs 79 --pretrained STAGE_I.pth",
    ),
    "h36m-p-stmo-s-cpn-stage2": Recipe(
        script="run.py",
        stage="train",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0007,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            85,
            "python run.py -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        ),
        readme_table=(91, "| P-STMO-S | default | 3 | 0.0007 |"),
        official="python run.py -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        pstmo="pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.0007 --lr-decay 0.97 --epochs 79 --pretrained STAGE_I.pth",
    ),
    "h36m-p-stmo-cpn-stage2": Recipe(
        script="run.py",
        stage="train",
        model="p-stmo",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=4,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            85,
            "python run.py -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        ),
        readme_table=(92, "| P-STMO | default | 4 | 0.001 |"),
        official="python run.py -f 243 -b 160 --train 1 --layers 4 -tds 2 --lr 0.001 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        pstmo="pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --model p-stmo --frames 243 --tds 2 --batch-size 160 --lr 0.001 --lr-decay 0.97 --epochs 79 --pretrained STAGE_I.pth",
    ),
    "h36m-p-stmo-s-gt-eval": Recipe(
        script="run.py",
        stage="evaluate",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="gt",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=None,
        lr_decay=None,
        epochs=0,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            43,
            "python run.py -k gt -f 243 -tds 2 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_15_2936_h36m_gt.pth",
        ),
        readme_table=None,
        official="python run.py -k gt -f 243 -tds 2 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_15_2936_h36m_gt.pth",
        pstmo="pstmo evaluate --checkpoint checkpoint/PSTMOS_no_refine_15_2936_h36m_gt.pth --dataset h36m --data-dir DATA --keypoints gt --tds 2",
    ),
    "h36m-p-stmo-s-cpn-eval": Recipe(
        script="run.py",
        stage="evaluate",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=None,
        lr_decay=None,
        epochs=0,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            50,
            "python run.py -f 243 -tds 2 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_28_4306_h36m_cpn.pth",
        ),
        readme_table=None,
        official="python run.py -f 243 -tds 2 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_28_4306_h36m_cpn.pth",
        pstmo="pstmo evaluate --checkpoint checkpoint/PSTMOS_no_refine_28_4306_h36m_cpn.pth --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --tds 2",
    ),
    "h36m-p-stmo-cpn-eval": Recipe(
        script="run.py",
        stage="evaluate",
        model="p-stmo",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=4,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=None,
        lr_decay=None,
        epochs=0,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            55,
            "python run.py -f 243 -tds 2 --reload 1 --layers 4 --previous_dir checkpoint/PSTMO_no_refine_11_4288_h36m_cpn.pth",
        ),
        readme_table=None,
        official="python run.py -f 243 -tds 2 --reload 1 --layers 4 --previous_dir checkpoint/PSTMO_no_refine_11_4288_h36m_cpn.pth",
        pstmo="pstmo evaluate --checkpoint checkpoint/PSTMO_no_refine_11_4288_h36m_cpn.pth --dataset h36m --data-dir DATA --keypoints cpn_ft_h36m_dbb --tds 2",
    ),
    "h36m-p-stmo-cpn-refine-eval": Recipe(
        script="run.py",
        stage="evaluate",
        model="p-stmo",
        dataset="h36m",
        keypoints="cpn_ft_h36m_dbb",
        layers=4,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=None,
        lr_decay=None,
        epochs=0,
        mask_ratio=None,
        mask_joints=None,
        refine=True,
        readme=(
            60,
            "python run.py -f 243 -tds 2 --reload 1 --refine_reload 1 --refine --layers 4 --previous_dir checkpoint/PSTMO_no_refine_6_4215_h36m_cpn.pth --previous_refine_name checkpoint/PSTMO_refine_6_4215_h36m_cpn.pth",
        ),
        readme_table=None,
        official="python run.py -f 243 -tds 2 --reload 1 --refine_reload 1 --refine --layers 4 --previous_dir checkpoint/PSTMO_no_refine_6_4215_h36m_cpn.pth --previous_refine_name checkpoint/PSTMO_refine_6_4215_h36m_cpn.pth",
        pstmo=None,
    ),
    "3dhp-p-stmo-s-gt-stage1": Recipe(
        script="run_3dhp.py",
        stage="pretrain",
        model="p-stmo-s",
        dataset="3dhp",
        keypoints="gt",
        layers=3,
        frames=81,
        tds=1,
        stride=1,
        batch_size=160,
        lr=0.0001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=0.7,
        mask_joints=2,
        refine=False,
        readme=(
            99,
            "python run_3dhp.py -f 81 -b 160 --MAE --train 1 --layers 3 -tmr 0.7 -smn 2 --lr 0.0001 -lrd 0.97",
        ),
        readme_table=None,
        official="python run_3dhp.py -f 81 -b 160 --MAE --train 1 --layers 3 -tmr 0.7 -smn 2 --lr 0.0001 -lrd 0.97",
        pstmo="pstmo pretrain --profile paper --dataset 3dhp --data-dir DATA --keypoints gt --model p-stmo-s --frames 81 --tds 1 --batch-size 160 --lr 0.0001 --lr-decay 0.97 --epochs 79 --mask-ratio 0.7 --mask-joints 2 --mask-mode official",
    ),
    "3dhp-p-stmo-s-gt-stage2": Recipe(
        script="run_3dhp.py",
        stage="train",
        model="p-stmo-s",
        dataset="3dhp",
        keypoints="gt",
        layers=3,
        frames=81,
        tds=1,
        stride=1,
        batch_size=160,
        lr=0.0007,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            104,
            "python run_3dhp.py -f 81 -b 160 --train 1 --layers 3 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        ),
        readme_table=None,
        official="python run_3dhp.py -f 81 -b 160 --train 1 --layers 3 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        pstmo="pstmo train --profile paper --dataset 3dhp --data-dir DATA --keypoints gt --model p-stmo-s --frames 81 --tds 1 --batch-size 160 --lr 0.0007 --lr-decay 0.97 --epochs 79 --pretrained STAGE_I.pth",
    ),
    "3dhp-p-stmo-s-gt-eval": Recipe(
        script="run_3dhp.py",
        stage="evaluate",
        model="p-stmo-s",
        dataset="3dhp",
        keypoints="gt",
        layers=3,
        frames=81,
        tds=1,
        stride=1,
        batch_size=160,
        lr=None,
        lr_decay=None,
        epochs=0,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            66,
            "python run_3dhp.py -f 81 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_50_3203_3dhp.pth",
        ),
        readme_table=None,
        official="python run_3dhp.py -f 81 --reload 1 --previous_dir checkpoint/PSTMOS_no_refine_50_3203_3dhp.pth",
        pstmo="pstmo evaluate --checkpoint checkpoint/PSTMOS_no_refine_50_3203_3dhp.pth --dataset 3dhp --data-dir DATA --keypoints gt --tds 1 --pck",
    ),
    "wild-p-stmo-s-coco-stage1": Recipe(
        script="run_in_the_wild.py",
        stage="pretrain",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="detectron_pt_coco",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0001,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=0.8,
        mask_joints=2,
        refine=False,
        readme=(
            114,
            "python run_in_the_wild.py -k detectron_pt_coco -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        ),
        readme_table=None,
        official="python run_in_the_wild.py -k detectron_pt_coco -f 243 -b 160 --MAE --train 1 --layers 3 -tds 2 -tmr 0.8 -smn 2 --lr 0.0001 -lrd 0.97",
        pstmo="pstmo pretrain --profile paper --dataset h36m --data-dir DATA --keypoints detectron_pt_coco --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.0001 --lr-decay 0.97 --epochs 79 --mask-ratio 0.8 --mask-joints 2 --mask-mode official",
    ),
    "wild-p-stmo-s-coco-stage2": Recipe(
        script="run_in_the_wild.py",
        stage="train",
        model="p-stmo-s",
        dataset="h36m",
        keypoints="detectron_pt_coco",
        layers=3,
        frames=243,
        tds=2,
        stride=1,
        batch_size=160,
        lr=0.0007,
        lr_decay=0.97,
        epochs=79,
        mask_ratio=None,
        mask_joints=None,
        refine=False,
        readme=(
            119,
            "python run_in_the_wild.py -k detectron_pt_coco -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        ),
        readme_table=None,
        official="python run_in_the_wild.py -k detectron_pt_coco -f 243 -b 160 --train 1 --layers 3 -tds 2 --lr 0.0007 -lrd 0.97 --MAE_reload 1 --previous_dir your_best_model_in_stage_I.pth",
        pstmo="pstmo train --profile paper --dataset h36m --data-dir DATA --keypoints detectron_pt_coco --model p-stmo-s --frames 243 --tds 2 --batch-size 160 --lr 0.0007 --lr-decay 0.97 --epochs 79 --pretrained STAGE_I.pth",
    ),
}
