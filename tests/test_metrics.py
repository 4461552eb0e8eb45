"""Metrics against closed-form cases: known offsets, rotations, scales and motions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pstmo import metrics
from pstmo.skeleton import H36M_ACTION_LABELS, H36M_ACTIONS


def random_poses(shape=(5, 17, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' formula (independent of the code under test)."""
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def test_mpjpe_constant_offset_is_offset_length():
    target = random_poses()
    offset = np.array([0.003, 0.0, 0.004])  # 5 mm in metres
    assert metrics.mpjpe(target + offset, target, scale=1000.0) == pytest.approx(5.0)
    assert metrics.mpjpe(target + offset, target) == pytest.approx(0.005)


def test_mpjpe_torch_matches_numpy_and_has_grad():
    target = random_poses()
    pred = target + np.array([1.0, 2.0, 2.0])
    t_pred = torch.tensor(pred, requires_grad=True)
    loss = metrics.mpjpe(t_pred, torch.tensor(target))
    assert isinstance(loss, torch.Tensor)
    assert loss.item() == pytest.approx(3.0)
    loss.backward()
    assert t_pred.grad is not None


def test_mpjpe_reduction_none_per_pose():
    target = np.zeros((2, 3, 17, 3))
    pred = target.copy()
    pred[1, 2, 0] = [17.0, 0, 0]  # one joint off by 17 -> mean over 17 joints = 1
    per = metrics.mpjpe(pred, target, reduction="none")
    assert per.shape == (2, 3)
    assert per[1, 2] == pytest.approx(1.0)
    assert per.sum() == pytest.approx(1.0)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        metrics.mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))


def test_p_mpjpe_removes_similarity_transform():
    target = random_poses((4, 17, 3))
    r = rotation(np.array([0.3, -1.0, 0.5]), 1.1)
    pred = 2.5 * target @ r.T + np.array([1.0, -2.0, 0.5])
    assert metrics.mpjpe(pred, target) > 1.0
    assert metrics.p_mpjpe(pred, target) == pytest.approx(0.0, abs=1e-9)
    aligned = metrics.procrustes_align(pred, target)
    np.testing.assert_allclose(aligned, target, atol=1e-9)


def test_p_mpjpe_does_not_undo_a_reflection():
    # A mirror image cannot be reached by a proper rotation: the error must stay > 0.
    target = random_poses((3, 17, 3), seed=1)
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    assert metrics.p_mpjpe(mirrored, target) > 0.1


def test_p_mpjpe_per_frame_alignment_and_torch():
    target = random_poses((2, 17, 3), seed=2)
    pred = target.copy()
    pred[0] = pred[0] @ rotation(np.array([0, 0, 1.0]), 0.7).T * 0.5
    pred[1] = pred[1] + 3.0
    out = metrics.p_mpjpe(torch.tensor(pred), torch.tensor(target), reduction="none")
    assert isinstance(out, torch.Tensor)
    assert torch.allclose(out, torch.zeros(2, dtype=out.dtype), atol=1e-9)


def test_n_mpjpe_removes_scale_only():
    target = random_poses(seed=3)
    assert metrics.n_mpjpe(0.5 * target, target) == pytest.approx(0.0, abs=1e-12)
    t = torch.tensor(target)
    assert metrics.n_mpjpe(3.0 * t, t).item() == pytest.approx(0.0, abs=1e-9)
    # A rotation is not removed by N-MPJPE.
    r = rotation(np.array([1.0, 0, 0]), 0.5)
    assert metrics.n_mpjpe(target @ r.T, target) > 0.05


def test_n_mpjpe_closed_form_scale():
    # target = one joint at (1,0,0); pred at (2,1,0): s* = 2/5, aligned (0.8, 0.4, 0), error sqrt(0.2).
    target = np.array([[[1.0, 0.0, 0.0]]])
    pred = np.array([[[2.0, 1.0, 0.0]]])
    assert metrics.n_mpjpe(pred, target) == pytest.approx(math.sqrt(0.04 + 0.16))


def test_mpjve_linear_motion():
    t = np.arange(10.0)[:, None, None]
    base = random_poses((1, 17, 3), seed=4)
    target = base + t * np.array([0.0, 0.0, 1.0])  # 1 unit / frame along z
    pred = base + t * np.array([0.0, 0.0, 3.0])  # 3 units / frame
    assert metrics.mpjve(pred, target) == pytest.approx(2.0)
    assert metrics.mpjve(pred, target, fps=50.0, scale=1000.0) == pytest.approx(2.0 * 50 * 1000)
    # A constant offset has no velocity error.
    assert metrics.mpjve(target + 5.0, target) == pytest.approx(0.0)
    per = metrics.mpjve(torch.tensor(pred), torch.tensor(target), reduction="none")
    assert per.shape == (9,)


def test_pck_and_auc_closed_form():
    # 14 scored joints; all joints off by exactly d mm.
    target = np.zeros((1, 17, 3))
    for d, expect_pck in [(100.0, 100.0), (200.0, 0.0)]:
        pred = target + np.array([d, 0.0, 0.0])
        assert metrics.pck(pred, target) == pytest.approx(expect_pck)
    # Error of 72 mm: PCK(t) = 100 for thresholds t > 72, i.e. 75..150 -> 16 of 31 thresholds.
    pred = target + np.array([0.0, 72.0, 0.0])
    assert metrics.auc(pred, target) == pytest.approx(100.0 * 16 / 31)
    # Metres in, millimetres via scale.
    assert metrics.auc(pred / 1000.0, target, scale=1000.0) == pytest.approx(100.0 * 16 / 31)


def test_pck_uses_only_the_14_joints():
    target = np.zeros((1, 17, 3))
    pred = target.copy()
    pred[0, 14:] = 1000.0  # joints outside the scored set far away
    assert metrics.pck(pred, target) == pytest.approx(100.0)
    pred[0, 0] = 1000.0  # one of the 14
    assert metrics.pck(pred, target) == pytest.approx(100.0 * 13 / 14)
    assert metrics.pck(torch.tensor(pred), torch.tensor(target)).item() == pytest.approx(100.0 * 13 / 14)


def test_action_table_unweighted_mean_and_order():
    # Walking: 3 frames of error 10; Eating: 1 frame of error 40 -> Avg = 25 (frame mean would be 17.5).
    errors = np.array([10.0, 10.0, 10.0, 40.0])
    actions = ["Walking 1", "Walking", "Walking 2", "Eating 2"]
    table = metrics.action_table(errors, actions)
    assert list(table.columns) == list(H36M_ACTION_LABELS) + ["Avg"]
    assert table.loc["MPJPE", "Walk"] == pytest.approx(10.0)
    assert table.loc["MPJPE", "Eat"] == pytest.approx(40.0)
    assert table.loc["MPJPE", "Avg"] == pytest.approx(25.0)
    assert np.isnan(table.loc["MPJPE", "Dir."])


def test_action_table_all_15_actions_and_aliases():
    errors = np.arange(1.0, 16.0)
    actions = list(H36M_ACTIONS)
    actions[5] = "TakingPhoto 1"
    actions[12] = "WalkingDog"
    table = metrics.action_table(errors, actions)
    np.testing.assert_allclose(table.iloc[0, :15].to_numpy(), np.arange(1.0, 16.0))
    assert table.loc["MPJPE", "Avg"] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="Dancing"):
        metrics.action_table(np.ones(1), ["Dancing"])


def test_sitting_and_sittingdown_are_different_actions():
    means = metrics.per_action_mean(np.array([1.0, 3.0]), ["Sitting 1", "SittingDown 2"])
    assert means == {"Sitting": 1.0, "SittingDown": 3.0}


def test_humaneva_table_excludes_pairs_from_avg():
    errors = np.array([10.0, 20.0, 100.0, 30.0, 30.0])
    subjects = ["S1", "S2", "S3", "S1", "S1"]
    actions = ["Walk 1", "Walk 1", "Walk 1", "Jog 1", "Jog_1"]
    table = metrics.humaneva_table(errors, subjects, actions, exclude=[("Walk", "S3")])
    assert table[("Walk", "S3")].iloc[0] == pytest.approx(100.0)
    assert table[("Jog", "S1")].iloc[0] == pytest.approx(30.0)
    assert table[("Avg", "")].iloc[0] == pytest.approx(20.0)  # (10 + 20 + 30) / 3


# --------------------------------------------------------------------------- official P-MPJPE (batch mean)


def _cross() -> np.ndarray:
    """4 joints at (+-1, 0, 0), (0, +-1, 0): centred and symmetric."""
    return np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])


def _mixed_batches():
    """7 frames, batches of 3: actions [A A B | B A B | A].

    A frames: the prediction is a similarity transform of the target -> P-MPJPE 0.
    B frames: the prediction is the target stretched by 2 along its own x axis. By symmetry the
    best rotation is the identity and the best scale s = <X, Y> / <Y, Y> = (2 + 1) / (4 + 1) = 3/5,
    leaving |1 - 2 s| = 0.2 on the two x joints and |1 - s| = 0.4 on the two y joints: 0.3.
    """
    r_t = rotation(np.array([0.2, 1.0, -0.4]), 0.8)
    r_p = rotation(np.array([1.0, 0.3, 0.5]), -1.3)
    target, pred, actions = [], [], []
    for i, act in enumerate("AABBABA"):
        x = _cross() @ r_t.T + np.array([0.1 * i, 0.5, 4.0])
        y = _cross() * (np.array([2.0, 1.0, 1.0]) if act == "B" else 1.0)
        target.append(x)
        pred.append(1.7 * (y @ r_t.T) @ r_p.T - 3.0)
        actions.append(act)
    return np.stack(pred), np.stack(target), actions


def test_p_mpjpe_official_hand_worked_batches():
    pred, target, actions = _mixed_batches()
    correct = metrics.p_mpjpe(pred, target, reduction="none")
    np.testing.assert_allclose(correct, [0, 0, 0.3, 0.3, 0, 0.3, 0], atol=1e-9)
    # Batch means: (0 + 0 + 0.3) / 3 = 0.1, (0.3 + 0 + 0.3) / 3 = 0.2, 0 / 1 = 0.
    official = metrics.p_mpjpe_official(pred, target, 3, reduction="none")
    np.testing.assert_allclose(official, [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.0], atol=1e-9)
    # Per action: A = (0.1 + 0.1 + 0.2 + 0) / 4 = 0.1 (correct 0), B = (0.1 + 0.2 + 0.2) / 3 (correct 0.3).
    off = metrics.per_action_mean(official, actions, canonical=False)
    cor = metrics.per_action_mean(correct, actions, canonical=False)
    assert off == pytest.approx({"A": 0.1, "B": 0.5 / 3})
    assert cor == pytest.approx({"A": 0.0, "B": 0.3})
    # The unweighted mean over actions differs (0.1333 vs 0.15); the mean over frames does not.
    assert np.mean(list(off.values())) == pytest.approx(0.4 / 3)
    assert np.mean(list(cor.values())) == pytest.approx(0.15)
    assert metrics.p_mpjpe_official(pred, target, 3) == pytest.approx(metrics.p_mpjpe(pred, target))


def test_p_mpjpe_official_batch_of_one_action_or_size_one_is_exact():
    pred, target, _ = _mixed_batches()
    np.testing.assert_allclose(
        metrics.p_mpjpe_official(pred, target, 1, reduction="none"),
        metrics.p_mpjpe(pred, target, reduction="none"),
        atol=1e-12,
    )
    out = metrics.p_mpjpe_official(
        torch.tensor(pred), torch.tensor(target), 7, scale=1000.0, reduction="none"
    )
    assert isinstance(out, torch.Tensor) and torch.allclose(out, torch.full((7,), 900.0 / 7, dtype=out.dtype))
    with pytest.raises(ValueError, match="batch_size"):
        metrics.p_mpjpe_official(pred, target, 0)


def test_p_mpjpe_official_matches_the_official_accumulation():
    """Side by side with the official ``common/utils.py`` when a clone is present."""
    import importlib
    import sys

    from conftest import OFFICIAL as repo
    if not (repo / "common" / "utils.py").is_file():
        pytest.skip(f"no clone of the official P-STMO code at {repo}")
    sys.path.insert(0, str(repo))
    try:
        utils = importlib.import_module("common.utils")
    finally:
        sys.path.remove(str(repo))
    rng = np.random.default_rng(5)
    target = rng.normal(size=(23, 17, 3))
    pred = target + 0.1 * rng.normal(size=(23, 17, 3))
    actions = [["Walking 1", "Eating", "Sitting 2"][i] for i in rng.integers(0, 3, size=23)]
    batch = 5
    sums = utils.define_error_list(["Walking", "Eating", "Sitting"])
    for b in range(0, 23, batch):
        p = torch.tensor(pred[b : b + batch, None])  # (B, 1, J, 3) as the official test step
        t = torch.tensor(target[b : b + batch, None])
        sums = utils.mpjpe_by_action_p2(p, t, actions[b : b + batch], sums)
    theirs = {a: v["p2"].avg for a, v in sums.items()}
    ours = metrics.per_action_mean(metrics.p_mpjpe_official(pred, target, batch, reduction="none"), actions)
    assert ours == pytest.approx(theirs, abs=1e-12)
    correct = metrics.per_action_mean(metrics.p_mpjpe(pred, target, reduction="none"), actions)
    assert any(abs(correct[a] - theirs[a]) > 1e-4 for a in theirs)
