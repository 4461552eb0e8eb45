"""TrainConfig and profiles: the papers' settings, one check per field, (de)serialisation."""

from __future__ import annotations

import math

import pytest

from pstmo.config import TrainConfig, get_profile
from pstmo.errors import ConfigError
from pstmo.models import LiftFormerConfig, STMOConfig
from pstmo.official.recipes import OFFICIAL_RECIPES
from pstmo.train import noam_lambda


@pytest.mark.parametrize(
    "name",
    [
        n
        for n, r in OFFICIAL_RECIPES.items()
        if r.stage in ("pretrain", "train") and r.script != "run_in_the_wild.py"
    ],
)
def test_paper_profile_reproduces_each_official_readme_recipe(name):
    r = OFFICIAL_RECIPES[name]
    stage = "pretrain" if r.stage == "pretrain" else "lift"
    cfg = get_profile("paper", stage, model=r.model, dataset=r.dataset, keypoints=r.keypoints)
    assert (cfg.frames, cfg.tds, cfg.batch_size, cfg.lr, cfg.lr_decay, cfg.epochs) == (
        r.frames, r.tds, r.batch_size, r.lr, r.lr_decay, r.epochs,
    )  # fmt: skip
    assert cfg.model.layers == r.layers and cfg.keypoints == r.keypoints
    if stage == "pretrain":
        assert (cfg.mask_ratio, cfg.mask_joints) == (r.mask_ratio, r.mask_joints)


def test_paper_profiles_match_the_papers():
    s2 = get_profile("paper", "lift", model="p-stmo-s")
    assert (s2.keypoints, s2.lr, s2.epochs, s2.frames, s2.tds, s2.lambda_multi) == (
        "cpn_ft_h36m_dbb",
        7e-4,
        79,
        243,
        2,
        1.0,
    )
    assert isinstance(s2.model, STMOConfig) and (s2.model.channel, s2.model.layers) == (256, 3)
    assert (
        get_profile("paper", "refine", model="p-stmo").lr == get_profile("paper", "lift", model="p-stmo").lr
    )
    # LiftFormer Sec. 4: 80 epochs (1000 on HumanEva), Noam 1000 / 12, batch 5120 / 3072 / 1536 for N = 27 / 81 / 243
    lf = get_profile("paper", "lift", model="liftformer")
    assert isinstance(lf.model, LiftFormerConfig)
    assert (lf.warmup, lf.noam_factor, lf.epochs, lf.batch_size, lf.model.dim) == (1000, 12.0, 80, 1536, 512)
    assert [get_profile("paper", "lift", model="liftformer", frames=n).batch_size for n in (27, 81)] == [
        5120,
        3072,
    ]
    he = get_profile("paper", "lift", model="liftformer", dataset="humaneva")
    assert (he.epochs, he.keypoints, he.model.joints) == (1000, "gt", 15)
    smoke = get_profile("smoke", "lift", epochs=1)
    assert smoke.dataset == "demo" and smoke.frames == 27 and smoke.epochs == 1 and smoke.model.channel == 32


def test_humaneva_and_refine_adjust_the_model():
    assert get_profile("smoke", "lift", dataset="humaneva").model.joints == 15
    assert get_profile("smoke", "refine").model.refine


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (dict(epochs=0), "epochs=0: must be an integer >= 1"),
        (dict(epochs=-1), "epochs=-1"),
        (dict(max_steps=0), "max_steps=0"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(tds=0), "tds=0"),
        (dict(lr=0.0), "lr=0.0: must be > 0"),
        (dict(lr=float("nan")), "lr=nan: must be a finite number"),
        (dict(lr_decay=-1.0), r"lr_decay=-1.0: must be in \(0, 1\]"),
        (dict(mask_ratio=1.0), r"mask_ratio=1.0: must be in \[0, 1\)"),
        (dict(mask_joints=18), r"mask_joints=18: must be in \[0, 17\]"),
        (dict(eval_max_frames=0), "eval_max_frames=0"),
        (dict(checkpoint_every=-1), "checkpoint_every=-1"),
        (dict(threads=0), "threads=0"),
        (dict(pad_mode="wrap"), "pad_mode='wrap': choose one of"),
        (dict(mask_strategy="random"), "mask_strategy='random'"),
        (dict(dataset="coco"), "dataset='coco'"),
        (dict(run_name="../../x"), "no path separators"),
        (dict(run_name="a/b"), "no path separators"),
        (dict(lambda_multi=-0.5), "lambda_multi=-0.5"),
    ],
)
def test_every_out_of_range_value_is_one_sentence(overrides, match):
    with pytest.raises(ConfigError, match=match):
        get_profile("smoke", "lift", **overrides)


def test_model_errors_and_stage_model_mismatch():
    with pytest.raises(ConfigError, match="odd"):
        get_profile("smoke", "lift", frames=10)
    with pytest.raises(ConfigError, match="profile 'huge'"):
        get_profile("huge")
    with pytest.raises(ConfigError, match="LiftFormer"):
        get_profile("smoke", "pretrain", model="liftformer")
    with pytest.raises(ConfigError, match="refine=True"):
        TrainConfig(stage="refine")


def test_round_trip_through_dict():
    cfg = get_profile("smoke", "lift", model="liftformer", frames=9, model_overrides={"weight_sharing": True})
    data = cfg.to_dict()
    assert data["model"]["type"] == "LiftFormerConfig" and data["model"]["weight_sharing"] is True
    back = TrainConfig.from_dict(data)
    assert back == cfg and back.model.weight_sharing is True
    with pytest.raises(ConfigError, match="unknown training option"):
        TrainConfig.from_dict({**data, "bogus": 1})
    with pytest.raises(ConfigError, match="unknown LiftFormerConfig option"):
        TrainConfig.from_dict({**data, "model": {**data["model"], "bogus": 1}})


def test_noam_schedule_closed_form():
    fn = noam_lambda(d_model=512, warmup=1000, factor=12.0)
    # LambdaLR step s (0-based) is Noam step s + 1.
    assert fn(999) == pytest.approx(12.0 / math.sqrt(512) / math.sqrt(1000))  # peak at the warm-up end
    assert fn(0) == pytest.approx(12.0 / math.sqrt(512) * 1 * 1000**-1.5)  # linear warm-up
    assert fn(3999) == pytest.approx(fn(999) / 2)  # inverse square root decay: 4x steps -> half
    assert max(fn(s) for s in range(3000)) == fn(999)


def test_smoke_liftformer_peaks_at_the_papers_learning_rate():
    """The smoke LiftFormer (d = 32, warm-up 20) reaches the paper's peak Noam lr (d = 512, 1000, 12)."""
    smoke = get_profile("smoke", "lift", model="liftformer")
    paper = get_profile("paper", "lift", model="liftformer")

    def peak(c):
        return c.lr * noam_lambda(c.model.dim, c.warmup, c.noam_factor)(c.warmup - 1)

    assert peak(smoke) == pytest.approx(peak(paper), rel=0.002)


def test_stretched_schedule_ends_at_the_profiles_learning_rate():
    from pstmo.config import stretched_schedule

    base = get_profile("demo")
    longer = stretched_schedule("demo", 2)
    assert longer["max_steps"] == 2 * base.max_steps and longer["epochs"] == 2 * base.epochs
    # the learning rate after all epochs of the stretched run equals the profile's after its own
    assert longer["lr_decay"] ** (2 * base.epochs) == pytest.approx(base.lr_decay**base.epochs)
    assert get_profile("demo", **longer).max_steps == 5000
    assert stretched_schedule("paper") == {} and stretched_schedule("demo", model="liftformer") == {}
    with pytest.raises(ConfigError):
        stretched_schedule("demo", 0)
