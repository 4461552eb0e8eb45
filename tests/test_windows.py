"""Window pipeline: TDS indexing, padding modes, flips, shuffling, DDP sharding, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from pstmo.data import Sequence
from pstmo.data.windows import (
    PAD_MODES,
    WindowBatcher,
    flip_poses,
    official_window,
    window_indices,
    window_span,
)
from pstmo.errors import DataError
from pstmo.skeleton import LEFT_JOINTS, RIGHT_JOINTS


def _seq(T: int, offset: float = 0.0, J: int = 17) -> Sequence:
    """pose_2d[t, j] = (offset + t, j); pose_3d[t, j] = (offset + t, j, 1): frames are readable."""
    t = np.arange(T, dtype=np.float32)[:, None].repeat(J, 1) + offset
    j = np.arange(J, dtype=np.float32)[None].repeat(T, 0)
    p2 = np.stack([t, j], -1)
    p3 = np.stack([t, j, np.ones_like(t)], -1)
    return Sequence("S", "A", 0, p2, p3, 1000, 1000)


def _official_window(seq: np.ndarray, t: int, pad: int, tds: int) -> np.ndarray:
    """Literal per-sample reading of the official ChunkedGenerator.get_batch (chunk length 1):
    left padding if the window overflows the start, else right padding if it overflows the end
    (never both), then every tds-th frame."""
    T = len(seq)
    start, end = t - pad * tds, t + pad * tds + 1
    low, high = max(start, 0), min(end, T)
    pad_left, pad_right = low - start, end - high
    if pad_left:
        data = np.concatenate([np.repeat(seq[:1], pad_left, 0), seq[low:high]])
    elif pad_right:
        data = np.concatenate([seq[low:high], np.repeat(seq[-1:], pad_right, 0)])
    else:
        data = seq[low:high]
    return data[::tds]


def test_tds_window_closed_form():
    idx = window_indices(torch.tensor([5, 0, 9]), torch.tensor([10, 10, 10]), frames=5, tds=2)
    assert idx.tolist() == [[1, 3, 5, 7, 9], [0, 0, 0, 2, 4], [5, 7, 9, 9, 9]]


def test_both_sides_overflow_edge_vs_official():
    T = torch.tensor([5])
    assert window_indices(torch.tensor([2]), T, 5, 2, "edge").tolist() == [[0, 0, 2, 4, 4]]
    # The official generator pads only the left gap here: 2 copies of frame 0 + frames 0..4,
    # every 2nd -> 4 frames for a 5-frame window. There is no official window: an error.
    assert len(_official_window(np.arange(5), 2, 2, 2)) == 4
    with pytest.raises(DataError, match="overflows both ends of a 5-frame sequence"):
        window_indices(torch.tensor([2]), T, 5, 2, "official")
    # One side only: official == edge.
    assert window_indices(torch.tensor([1]), torch.tensor([9]), 5, 2, "official").tolist() == [
        [0, 0, 1, 3, 5]
    ]
    with pytest.raises(ValueError, match="pad_mode"):
        window_indices(torch.tensor([1]), torch.tensor([9]), 5, 2, "left")


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("frames,tds", [(1, 1), (9, 1), (9, 3), (27, 2)])
def test_matches_per_sample_reference(pad_mode, frames, tds):
    span = window_span(frames, tds)
    lengths = [3, 12, 40] if pad_mode == "edge" else [max(span - 1, 1), span, span + 30]
    seqs = [_seq(T, offset=100 * i) for i, T in enumerate(lengths)]
    b = WindowBatcher(seqs, frames, tds=tds, batch_size=1000, shuffle=False, pad_mode=pad_mode)
    (batch,) = list(b)
    pad = (frames - 1) // 2
    seq_idx, frame = b.targets()
    for i in range(b.num_targets):
        s, t = int(seq_idx[i]), int(frame[i])
        idx = np.clip(t + np.arange(-pad, pad + 1) * tds, 0, len(seqs[s].pose_2d) - 1)
        ref2, ref3 = seqs[s].pose_2d[idx], seqs[s].pose_3d[idx]
        if pad_mode == "official":  # the official generator, literally
            ref2 = _official_window(seqs[s].pose_2d, t, pad, tds)
            ref3 = _official_window(seqs[s].pose_3d, t, pad, tds)
        assert batch.center_3d[i, 0, 0, 0] == 100 * s + t  # middle frame is the target
        np.testing.assert_array_equal(batch.pose_2d[i].numpy(), ref2)
        np.testing.assert_array_equal(batch.pose_3d[i].numpy(), ref3)
        np.testing.assert_array_equal(batch.center_3d[i, 0].numpy(), ref3[pad])


@pytest.mark.parametrize("frames,tds", [(9, 1), (9, 3), (27, 2)])
def test_official_pad_mode_rejects_sequences_with_two_sided_windows(frames, tds):
    pad = (frames - 1) // 2
    need = (frames - 1) * tds  # the shortest sequence none of whose windows overflows both ends

    def official_lengths(T: int) -> list[int]:
        seq = np.arange(T)
        return [len(_official_window(seq, t, pad, tds)) for t in range(T)]

    # Independent of the code under test: the literal official generator yields short windows
    # exactly for the sequences shorter than (N-1)*tds frames.
    assert min(official_lengths(need - 1)) < frames
    assert min(official_lengths(need)) == frames
    short = _seq(need - 1)
    seqs = [_seq(need + 5), Sequence("S9", "Walking 1", 2, short.pose_2d, short.pose_3d, 1000, 1000)]
    with pytest.raises(DataError, match=r"sequence 1 \(S9 Walking 1 camera 2\) has .* frames, fewer than"):
        WindowBatcher(seqs, frames, tds=tds, pad_mode="official")
    WindowBatcher([_seq(need)], frames, tds=tds, pad_mode="official")
    WindowBatcher(seqs, frames, tds=tds, pad_mode="edge")  # edge pads both sides
    with pytest.raises(DataError, match="sequence 0 has .* overflow both ends"):
        WindowBatcher([Sequence("", "", 0, short.pose_2d, None, 0, 0)], frames, tds=tds, pad_mode="official")


def test_flip_and_reverse_copies():
    seq = _seq(6)
    b = WindowBatcher([seq], 3, batch_size=100, shuffle=False, flip=True, reverse=True)
    assert b.num_targets == 6 and b.num_items == 24 and len(b) == 1
    (batch,) = list(b)
    assert batch.flipped.sum() == 12 and batch.reversed.sum() == 12
    assert ((batch.flipped & batch.reversed).sum()) == 6
    for i in range(24):
        t = int(batch.index[i])
        frames = [max(t - 1, 0), t, min(t + 1, 5)]
        if batch.reversed[i]:
            frames = frames[::-1]
        x = batch.pose_2d[i]
        assert x[:, 0, 0].abs().tolist() == frames
        if batch.flipped[i]:
            assert (x[:, 0, 0] <= 0).all()
            # joint slot of a left joint now holds the right joint's data
            for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
                assert x[0, left, 1] == right and batch.pose_3d[i, 0, right, 1] == left
        else:
            assert x[0, :, 1].tolist() == list(range(17))


def test_flip_poses_involution():
    x = torch.randn(2, 5, 17, 3)
    torch.testing.assert_close(flip_poses(flip_poses(x)), x)


def test_shuffle_deterministic_and_covers_everything():
    seqs = [_seq(7), _seq(11, 50)]
    a = WindowBatcher(seqs, 5, batch_size=4, seed=3)
    b = WindowBatcher(seqs, 5, batch_size=4, seed=3)
    ia = torch.cat([x.index for x in a])
    ib = torch.cat([x.index for x in b])
    assert ia.tolist() == ib.tolist() and sorted(ia.tolist()) == list(range(18))
    assert a.epoch == 1  # exhausting an epoch advances it
    ia2 = torch.cat([x.index for x in a])
    assert ia2.tolist() != ia.tolist() and sorted(ia2.tolist()) == list(range(18))


@pytest.mark.parametrize("drop_last", [False, True])
def test_ddp_sharding_matches_distributed_sampler(drop_last):
    seqs = [_seq(10), _seq(13, 50)]
    dataset = list(range(23))
    for rank in range(3):
        b = WindowBatcher(seqs, 3, batch_size=100, seed=5, rank=rank, world_size=3, drop_last=drop_last)
        b.set_epoch(2)
        ref = DistributedSampler(
            dataset, num_replicas=3, rank=rank, shuffle=True, seed=5, drop_last=drop_last
        )
        ref.set_epoch(2)
        got = b.epoch_order().tolist()
        assert got == list(ref)
        assert b.num_samples == len(ref)


def test_resume_mid_epoch_gives_same_batches():
    seqs = [_seq(20), _seq(15, 50)]
    full = WindowBatcher(seqs, 5, tds=2, batch_size=4, seed=1, flip=True)
    full.set_epoch(1)
    expected = [x.pose_2d.clone() for x in full]
    run = WindowBatcher(seqs, 5, tds=2, batch_size=4, seed=1, flip=True)
    run.set_epoch(1)
    it = iter(run)
    for _ in range(3):
        next(it)
    state = run.state_dict()
    assert state["epoch"] == 1 and state["position"] == 3
    resumed = WindowBatcher(seqs, 5, tds=2, batch_size=4, seed=1, flip=True)
    resumed.load_state_dict(state)
    resumed.set_epoch(1)  # same epoch: keeps the position
    rest = [x.pose_2d for x in resumed]
    assert len(rest) == len(expected) - 3
    for x, y in zip(rest, expected[3:]):
        torch.testing.assert_close(x, y)
    with pytest.raises(ValueError, match="batch_size"):
        WindowBatcher(seqs, 5, batch_size=8, flip=True).load_state_dict(state)


def test_len_and_drop_last():
    seqs = [_seq(10)]
    assert len(WindowBatcher(seqs, 3, batch_size=4)) == 3
    assert len(WindowBatcher(seqs, 3, batch_size=4, drop_last=True)) == 2
    assert sum(len(x) for x in WindowBatcher(seqs, 3, batch_size=4, drop_last=True)) == 8


def test_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        WindowBatcher([_seq(5)], 4)
    with pytest.raises(ValueError, match="pad_mode"):
        WindowBatcher([_seq(5)], 3, pad_mode="zeros")
    with pytest.raises(ValueError, match="skeleton"):
        WindowBatcher([_seq(5, J=15)], 3, flip=True)


def test_reused_buffers_give_the_same_batches_and_keep_the_previous_one():
    seqs = [_seq(40, 0.0), _seq(25, 1000.0)]
    plain = list(WindowBatcher(seqs, 9, tds=2, batch_size=7, seed=4, flip=True))
    reused = WindowBatcher(seqs, 9, tds=2, batch_size=7, seed=4, flip=True, reuse_buffers=True)
    previous = None
    for i, b in enumerate(reused):
        assert torch.equal(plain[i].pose_2d, b.pose_2d) and torch.equal(plain[i].pose_3d, b.pose_3d)
        assert torch.equal(plain[i].center_3d, b.center_3d)
        if previous is not None:  # two buffers alternate: the previous batch is still intact
            assert torch.equal(plain[i - 1].pose_2d, previous.pose_2d)
            assert b.pose_2d.data_ptr() != previous.pose_2d.data_ptr()
        previous = b


# --------------------------------------------------------------------------- official short-clip windows

OFFICIAL_WINDOWS = Path(__file__).parent / "fixtures" / "official_windows.npz"


@pytest.fixture(scope="module")
def official_windows() -> dict[str, np.ndarray]:
    """Windows of the official ``ChunkedGenerator.get_batch`` (tools/make_official_fixture.py --kind windows)."""
    return dict(np.load(OFFICIAL_WINDOWS))


def _cases(data: dict[str, np.ndarray]):
    k = 0
    while f"case{k}/length" in data:
        T, N, s = (int(data[f"case{k}/{key}"]) for key in ("length", "frames", "tds"))
        sizes = data[f"case{k}/sizes"]
        yield T, N, s, np.split(data[f"case{k}/indices"], np.cumsum(sizes)[:-1])
        k += 1


def test_official_window_matches_the_official_generator(official_windows):
    """Every window of the official generator, the short ones of clips under (N-1)*s frames included."""
    cases = list(_cases(official_windows))
    assert (200, 243, 3) in [c[:3] for c in cases]  # the example: every window overflows both ends
    short = 0
    for T, N, s, windows in cases:
        assert len(windows) == T
        for t, theirs in enumerate(windows):
            ours = official_window(t, T, N, s)
            np.testing.assert_array_equal(ours, theirs, err_msg=f"T={T} N={N} s={s} t={t}")
            np.testing.assert_array_equal(ours, _official_window(np.arange(T), t, (N - 1) // 2, s))
            if len(theirs) == N:  # one side or none overflows: the batcher's official windows
                row = window_indices(torch.tensor([t]), torch.tensor([T]), N, s, "official")[0]
                np.testing.assert_array_equal(row.numpy(), theirs)
            short += len(theirs) < N
    assert short > 200  # the fixture holds short windows (all 200 of the first case, and more)


def test_the_official_model_rejects_short_windows_so_the_batcher_refuses(official_windows):
    assert not bool(official_windows["short_window_accepted"])  # recorded from the official Model
    assert "RuntimeError" in str(official_windows["short_window_error"])
    sizes = [len(official_window(t, 200, 243, 3)) for t in range(200)]
    assert (min(sizes), max(sizes)) == (122, 188)
    with pytest.raises(DataError, match="yields windows as short as 122 frames instead of 243"):
        WindowBatcher([_seq(200)], 243, tds=3, pad_mode="official")
    with pytest.raises(DataError, match="yields 188 frames there instead of 243"):
        window_indices(torch.tensor([0]), torch.tensor([200]), 243, 3, "official")
    assert len(WindowBatcher([_seq(200)], 243, tds=3, pad_mode="edge")) == 1  # edge pads both ends
