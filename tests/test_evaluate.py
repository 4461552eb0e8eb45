"""Evaluation with the papers' protocol: per action then over actions, official checkpoints, HumanEva."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pstmo.checkpoint import build_run_model, load_model
from pstmo.data.synthetic import synthetic_dataset
from pstmo.errors import CheckpointError
from pstmo.evaluate import evaluate, pck_joints_of
from pstmo.metrics import p_mpjpe


def test_eval_is_per_action_then_mean_over_actions(toy_cfg, one_thread):
    data = synthetic_dataset(test=(("S9", "Walking"), ("S9", "Walking 1"), ("S11", "Eating")))
    model = build_run_model(toy_cfg())
    res = evaluate(model, dataset=data, frames=9)
    per_frame = np.concatenate(
        [np.linalg.norm(p.pred - p.target, axis=-1).mean(-1) * 1000 for p in res.predictions]
    )
    walk, eat = per_frame[:96].mean(), per_frame[96:].mean()
    assert res.per_action.loc["MPJPE", "Walk"] == pytest.approx(walk, rel=1e-5)
    assert res.mpjpe == pytest.approx((walk + eat) / 2, rel=1e-5)
    assert list(res.per_action.columns)[-1] == "Avg"
    assert res.num_scored == 144 and "all frames" in res.protocol and "flip on" in res.protocol


def test_evaluate_leaves_the_callers_lifter_unchanged(toy_cfg, toy_data, one_thread):
    """evaluate() lifts with the data set's skeleton (its flip permutation) through a copy."""
    from pstmo.inference import Lifter

    lifter = Lifter(build_run_model(toy_cfg()), 9)
    assert toy_data.skeleton is not None
    res = evaluate(lifter, dataset=toy_data)
    assert lifter.skeleton is None and math.isfinite(res.mpjpe)


def test_max_frames_scores_the_first_frames_and_says_so(toy_cfg, toy_data, one_thread):
    model = build_run_model(toy_cfg())
    full = evaluate(model, dataset=toy_data, frames=9)
    capped = evaluate(model, dataset=toy_data, frames=9, max_frames=10)
    assert capped.num_scored == 20 and "first 10 frames" in capped.protocol
    np.testing.assert_allclose(capped.predictions[0].pred, full.predictions[0].pred[:10], atol=1e-6)


def test_evaluate_official_checkpoint_fixture(official_tiny, toy_data, one_thread):
    path, data = official_tiny("stage2")
    model, info = load_model(path)
    assert info.frames == int(data["config/frames"]) and info.official
    x = (
        torch.from_numpy(data["stage2/input"]).squeeze(-1).permute(0, 2, 3, 1)
    )  # (B, 2, N, J, 1) -> (B, N, J, 2)
    expected = torch.from_numpy(data["stage2/output_single"]).squeeze(-1).permute(0, 2, 3, 1)  # (B, 1, J, 3)
    with torch.no_grad():
        assert torch.allclose(model(x).center, expected, atol=1e-5)
    res = evaluate(path, dataset=toy_data, flip=False)  # evaluate() accepts the official file directly
    assert math.isfinite(res.mpjpe) and res.num_scored == 96
    assert "s=1" in res.protocol and "s=3" in evaluate(path, dataset=toy_data, flip=False, tds=3).protocol


def test_humaneva_table_and_stage1_checkpoints(toy_cfg, one_thread):
    data = synthetic_dataset(test=(("Validate/S1", "Walk 1 chunk0"), ("Validate/S2", "Jog 1 chunk1")))
    res = evaluate(build_run_model(toy_cfg()), dataset=data, frames=9, flip=False)
    table = res.per_subject_action
    assert list(table.columns) == [("Walk", "S1"), ("Jog", "S2"), ("Avg", "")]
    assert table[("Avg", "")].iloc[0] == pytest.approx(res.p_mpjpe, rel=1e-6)  # 2 pairs = 2 actions


def test_a_stage1_checkpoint_cannot_be_evaluated(toy_cfg, toy_data, tmp_path):
    from pstmo.checkpoint import save_model

    cfg = toy_cfg("pretrain", "p-stmo-s")
    path = save_model(build_run_model(cfg), cfg, tmp_path / "pre.pt")
    with pytest.raises(CheckpointError, match="Stage I"):
        evaluate(path, dataset=toy_data)


def test_pck_joints_leave_out_the_root():
    class DS:
        root_joint = 0

    assert pck_joints_of(DS(), 17) == list(range(1, 17))
    DS.root_joint = 14
    assert pck_joints_of(DS(), 17) == list(range(14))  # MPI-INF-3DHP's 14 scored joints


def test_official_p_mpjpe_reproduces_the_batch_mean_of_the_official_printout(toy_cfg, one_thread):
    """144 test frames fit in one official test batch of 160: every action gets the batch mean."""
    data = synthetic_dataset(test=(("S9", "Walking"), ("S9", "Walking 1"), ("S11", "Eating")))
    model = build_run_model(toy_cfg())
    correct = evaluate(model, dataset=data, frames=9)
    official = evaluate(model, dataset=data, frames=9, p_mpjpe="official")
    row = official.per_action.loc["P-MPJPE"]
    per_frame_mean = np.mean(
        [m for p in correct.predictions for m in p_mpjpe(p.pred, p.target, scale=1000.0, reduction="none")]
    )
    assert row["Walk"] == pytest.approx(per_frame_mean, rel=1e-5) and row["Eat"] == pytest.approx(
        per_frame_mean, rel=1e-5
    )
    assert correct.per_action.loc["P-MPJPE", "Walk"] != pytest.approx(
        correct.per_action.loc["P-MPJPE", "Eat"]
    )
    assert official.mpjpe == correct.mpjpe and "official" in official.protocol


def _prediction(subject, action, camera, target, noise, seed):
    from pstmo.evaluate import SequencePrediction

    rng = np.random.default_rng(seed)
    pred = (target + rng.normal(scale=noise, size=target.shape)).astype(np.float32)
    pred[:, 0] = 0.0
    return SequencePrediction(
        subject, action, camera, np.zeros(target.shape[:2] + (2,), np.float32), pred, target
    )


def test_humaneva_cells_pool_every_camera_of_a_pair():
    """LiftFormer Table 5: one cell per (action, subject), over the frames of all its cameras
    (keying by "action subject" per sequence kept only the last camera, and Avg exceeded every cell)."""
    from pstmo.evaluate import score

    rng = np.random.default_rng(0)
    target = rng.normal(scale=0.2, size=(30, 15, 3)).astype(np.float32)
    target -= target[:, :1]
    preds = [  # two cameras per pair, with very different errors
        _prediction("Validate/S1", "Walk 1", 0, target, 0.01, 1),
        _prediction("Validate/S1", "Walk 1", 1, target, 0.08, 2),
        _prediction("Validate/S2", "Jog 1", 0, target, 0.02, 3),
        _prediction("Validate/S2", "Jog 1", 1, target, 0.05, 4),
    ]
    table = score(preds).per_subject_action
    per_seq = [float(p_mpjpe(p.pred, p.target, scale=1000.0)) for p in preds]
    walk, jog = table[("Walk", "S1")].iloc[0], table[("Jog", "S2")].iloc[0]
    assert walk == pytest.approx((per_seq[0] + per_seq[1]) / 2, rel=1e-5)  # equal lengths: mean of both
    assert jog == pytest.approx((per_seq[2] + per_seq[3]) / 2, rel=1e-5)
    assert walk not in (pytest.approx(per_seq[0]), pytest.approx(per_seq[1]))
    assert min(walk, jog) <= table[("Avg", "")].iloc[0] <= max(walk, jog)
    # other data sets (the demo's clips): the same pooling, pairs in order of appearance
    from pstmo import metrics

    errors = np.concatenate([p_mpjpe(p.pred, p.target, scale=1000.0, reduction="none") for p in preds])
    subjects = ["S02"] * 60 + ["S11"] * 60
    actions = ["Walk 1"] * 60 + ["Kick 1"] * 60
    demo = metrics.humaneva_table(errors, subjects, actions, order_actions=None, order_subjects=None)
    assert list(demo.columns) == [("Walk", "S02"), ("Kick", "S11"), ("Avg", "")]
    assert demo[("Walk", "S02")].iloc[0] == pytest.approx(walk, rel=1e-6)


def test_pck_on_the_human36m_layout_counts_every_joint_but_the_root():
    """The demo data (Human3.6M layout, root 0): PCK over joints 1..16, so the right arm (14-16)
    counts and the pelvis (error 0 by construction) gives nothing away. With MPI-INF-3DHP's 14
    joints on this layout, a useless prediction scored 1/14 at every threshold."""
    from pstmo import metrics
    from pstmo.data import load_dataset

    ds = load_dataset("demo")
    joints = pck_joints_of(ds, ds.num_joints)
    assert joints == list(range(1, 17)) and {14, 15, 16} <= set(joints)
    target = np.asarray(ds.sequences("test")[0].pose_3d[:20], np.float32)
    wrong = target.copy()
    wrong[:, 1:] += 1.0  # every joint 1.7 m off, the root exact
    curve = metrics.pck_curve(wrong, target, scale=1000.0, joints=joints)
    assert curve.max() == 0.0
    assert metrics.pck_curve(wrong, target, scale=1000.0)[1:] == pytest.approx(100 / 14)  # the old plateau
    arm = target.copy()
    arm[:, 16] += 0.3  # only the right wrist off by 300 mm
    assert metrics.pck(arm, target, scale=1000.0, joints=joints) == pytest.approx(100 * 15 / 16)
    curve = metrics.pck_curve(arm, target, scale=1000.0, joints=joints)
    assert curve[0] == 0.0 and curve.mean() == pytest.approx(
        float(metrics.auc(arm, target, scale=1000.0, joints=joints))
    )


def test_evaluate_scores_pck_over_the_layouts_joints(toy_cfg, one_thread):
    from pstmo import metrics
    from pstmo.data import load_dataset

    ds = load_dataset("demo")
    res = evaluate(build_run_model(toy_cfg()), dataset=ds, frames=9, pck=True, flip=False)
    pred = np.concatenate([p.pred for p in res.predictions])
    target = np.concatenate([p.target for p in res.predictions])
    assert res.pck == pytest.approx(float(metrics.pck(pred, target, scale=1000.0, joints=range(1, 17))))
    assert res.pck != pytest.approx(float(metrics.pck(pred, target, scale=1000.0)))  # not the 14 of 3DHP


def test_mean_pose_baseline_predicts_the_mean_training_pose():
    from pstmo.data.synthetic import synthetic_dataset
    from pstmo.evaluate import mean_pose_baseline

    data = synthetic_dataset(test=(("S9", "Walking"), ("S11", "Eating")))
    res = mean_pose_baseline(data)
    mean = np.concatenate([s.pose_3d for s in data.sequences("train")]).mean(0)
    for p in res.predictions:
        np.testing.assert_allclose(p.pred, np.broadcast_to(mean, p.pred.shape), atol=1e-6)
    walk = np.linalg.norm(res.predictions[0].pred - res.predictions[0].target, axis=-1).mean() * 1000
    assert res.per_action.loc["MPJPE", "Walk"] == pytest.approx(walk, rel=1e-5)
    assert res.mpjve == pytest.approx(
        float(
            np.mean(
                [np.linalg.norm(np.diff(p.target, axis=0), axis=-1).mean() * 1000 for p in res.predictions]
            )
        ),
        rel=1e-4,
    )  # a pose that never moves: the velocity error is the true speed
    assert "no model" in res.protocol


def test_seq2seq_preview_scores_every_frame_once_and_says_it_is_a_preview(toy_cfg, toy_data, one_thread):
    model = build_run_model(toy_cfg(model="p-stmo-s"))  # P-STMO with MOFA: it has the multi-frame head
    papers = evaluate(model, dataset=toy_data, frames=9)
    preview = evaluate(model, dataset=toy_data, frames=9, seq2seq=True)
    assert preview.num_scored == papers.num_scored
    assert "PREVIEW" in preview.protocol and "PREVIEW" not in papers.protocol
    assert math.isfinite(preview.mpjpe) and preview.mpjpe != papers.mpjpe  # another head, other numbers


class _Shortened:
    """A data set whose test clips are cut to ``lengths`` frames (issue 18: clips too short to score)."""

    def __init__(self, data, lengths):
        self.data, self.lengths = data, lengths

    def sequences(self, split, subjects=None, actions=None):
        import dataclasses

        seqs = self.data.sequences(split, subjects=subjects, actions=actions)
        if split != "test":
            return seqs
        return [
            dataclasses.replace(s, pose_2d=s.pose_2d[:n], pose_3d=s.pose_3d[:n])
            for s, n in zip(seqs, self.lengths)
        ]


def test_one_frame_clips_are_skipped_and_counted_never_nan(toy_cfg, one_thread):
    from pstmo.errors import DataError

    data = synthetic_dataset(test=(("S9", "Walking"), ("S9", "Eating"), ("S11", "Eating")))
    model = build_run_model(toy_cfg())
    res = evaluate(model, dataset=_Shortened(data, [1, 30, 40]), frames=9)
    assert res.skipped == 1 and res.metrics["skipped_clips"] == 1 and res.num_scored == 70
    assert "1 clip(s) with fewer than 2 scored frames skipped" in res.protocol
    assert all(math.isfinite(v) for k, v in res.metrics.items() if isinstance(v, float))
    full = evaluate(model, dataset=data, frames=9)
    assert full.skipped == 0 and "skipped_clips" not in full.metrics
    with pytest.raises(DataError, match="none of the 3 clip\\(s\\) has 2 or more frames to score"):
        evaluate(model, dataset=_Shortened(data, [1, 1, 1]), frames=9)
    with pytest.raises(DataError, match="none of the 3 clip"):
        evaluate(model, dataset=data, frames=9, max_frames=1)


def test_a_non_finite_metric_is_an_error_not_a_score(toy_cfg, one_thread):
    from pstmo.errors import DataError

    data = synthetic_dataset()
    model = build_run_model(toy_cfg())
    with torch.no_grad():
        next(p for p in model.parameters() if p.dim() > 1).fill_(float("inf"))
    with pytest.raises(
        DataError, match=r"key .metrics.: the predictions of \d+ of \d+ scored frames are NaN or infinite"
    ):
        evaluate(model, dataset=data, frames=9)


def test_size_table_finds_a_body_predicted_too_large():
    # a clip predicted exactly 1.25x too large (two cameras) and one predicted exactly: s* is the
    # factor that undoes it (0.8), N-MPJPE is 0, MPJPE is the 25 % of the true joint distances
    from pstmo.evaluate import SequencePrediction
    from pstmo.report.tables import size_table

    rng = np.random.default_rng(0)
    target = rng.normal(size=(5, 17, 3)) * 0.2
    target[:, 0] = 0.0
    preds = [
        SequencePrediction("S02", "Walk", cam, np.zeros((5, 17, 2)), 1.25 * target, target) for cam in (0, 1)
    ] + [SequencePrediction("S11", "Kick", 0, np.zeros((5, 17, 2)), target.copy(), target)]
    table = size_table(preds).set_index("Subject")
    assert table.loc["S02", "Frames"] == 10 and table.loc["S02", "s*"] == pytest.approx(0.8)
    assert table.loc["S02", "N-MPJPE (mm)"] == pytest.approx(0.0, abs=1e-9)
    expected = 0.25 * np.linalg.norm(target, axis=-1).mean() * 1000.0
    assert table.loc["S02", "MPJPE (mm)"] == pytest.approx(expected)
    assert table.loc["S11", "s*"] == pytest.approx(1.0) and table.loc["S11", "MPJPE (mm)"] == 0.0
