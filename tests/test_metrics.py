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
