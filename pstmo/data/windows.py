"""Many-to-one windows over pose sequences, built with index tensors (no per-sample loop).

For a target frame ``t`` of a sequence of length ``T``, the window of ``N`` (odd) frames
with TDS rate ``s`` takes frames ``t + k*s`` for ``k in [-(N-1)/2, (N-1)/2]`` (P-STMO's
temporal downsampling, Sec. 3.4). Frames outside ``[0, T-1]`` are padded:

- ``pad_mode="edge"`` (default): repeat the first / last frame on each side that overflows,
  i.e. the index is clamped to ``[0, T-1]``; the middle frame is always ``t``.
- ``pad_mode="official"``: exactly the windows of P-STMO's official
  ``ChunkedGenerator.get_batch`` (``common/generator_tds.py``), which pads with copies of the
  first frame when the window overflows the start and with copies of the last frame when it
  overflows the end (only one of the two: an ``if`` / ``elif``), then takes every ``s``-th
  frame. When one side overflows, that is "edge" padding, and "official" returns the same
  windows. When **both** sides overflow (some target frame is closer than ``(N-1)/2 * s`` to
  both ends, which happens exactly in the sequences of fewer than ``(N-1)*s`` frames), the
  official code pads only the left gap and returns a window of fewer than N frames:
  :func:`official_window` reproduces it, index for index (e.g. 122 to 188 frames for every
  target of a 200-frame clip with N = 243, s = 3; tested against the official generator in
  ``tests/fixtures/official_windows.npz``). Such a window cannot be lifted: the official model
  adds its N positional embeddings to it and fails (``RuntimeError``, recorded in the same
  fixture), and the official DataLoader cannot stack windows of different lengths. Human3.6M
  clips are far longer and never trigger it. So "official" raises a
  :class:`pstmo.errors.DataError` naming the sequence and the official window's length (when
  the batcher is built, rather than at some batch of an epoch, where the official run fails);
  use "edge" for such data.

The multi-frame 3D targets (``pose_3d``) use the same indices as the 2D input; ``center_3d``
is the middle window frame ``pose_3d[:, (N-1)//2]`` (as the official code takes it).

Augmentation as in the official generator: ``flip=True`` adds a horizontally flipped copy
of every window (x negated, left/right joints swapped, in 2D and 3D; a consumer that uses
camera intrinsics flips them with :func:`pstmo.cameras.flip_intrinsic_vector`), and
``reverse=True`` adds a time-reversed copy; an epoch therefore has 1, 2 or 4 items per
target. ``Batch.index`` points into the flat target list ``targets()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pstmo.errors import DataError
from pstmo.registry import PAD_MODES  # padding of windows that overflow a sequence end (module docstring)
from pstmo.skeleton import H36M_SKELETON, Skeleton


@dataclass
class Batch:
    """One batch of windows.

    ``pose_2d (B, N, J, 2)`` input; ``pose_3d (B, N, J, 3)`` multi-frame 3D targets (None
    without 3D); ``center_3d (B, 1, J, 3)`` middle-frame target; ``index (B,)`` long into
    the flat target list; ``flipped (B,)`` and ``reversed (B,)`` bool augmentation flags.
    """

    pose_2d: torch.Tensor
    pose_3d: torch.Tensor | None
    center_3d: torch.Tensor | None
    index: torch.Tensor
    flipped: torch.Tensor
    reversed: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def to(self, device: Any) -> Batch:
        def mv(x):
            return None if x is None else x.to(device)

        return Batch(
            *(
                mv(getattr(self, f))
                for f in ("pose_2d", "pose_3d", "center_3d", "index", "flipped", "reversed")
            )
        )


def flip_poses(x: torch.Tensor, skeleton: Skeleton | SequenceABC[int] = H36M_SKELETON) -> torch.Tensor:
    """Horizontal flip of poses ``(..., J, C)``: negate x, swap left and right joints.

    ``skeleton``: a :class:`pstmo.skeleton.Skeleton` or directly its left/right permutation.
    The one flip of the package (training augmentation, test-time flip, fast path).
    """
    perm = skeleton.flip_permutation() if isinstance(skeleton, Skeleton) else list(skeleton)
    perm = torch.as_tensor(perm, device=x.device)
    out = x.index_select(-2, perm).clone()
    out[..., 0] = -out[..., 0]
    return out


def window_span(frames: int, tds: int = 1) -> int:
    """Frames a window covers in the sequence: ``L = (N - 1) * s + 1``."""
    return (frames - 1) * tds + 1


def official_window(frame: int, length: int, frames: int, tds: int = 1) -> np.ndarray:
    """The frame indices of the official ``ChunkedGenerator.get_batch`` window of target ``frame``
    in a ``length``-frame sequence (chunk length 1): copies of frame 0 for a left overflow, **else**
    copies of the last frame for a right overflow, then every ``tds``-th frame. ``N`` indices,
    or fewer where the window overflows both ends (only the left gap is padded)."""
    pad = (frames - 1) // 2 * tds
    start, end = frame - pad, frame + pad + 1
    inside = np.arange(max(start, 0), min(end, length))
    if start < 0:
        idx = np.concatenate([np.zeros(-start, dtype=np.int64), inside])
    elif end > length:
        idx = np.concatenate([inside, np.full(end - length, length - 1, dtype=np.int64)])
    else:
        idx = inside
    return idx[::tds]


def window_indices(
    frame: torch.Tensor, length: torch.Tensor, frames: int, tds: int = 1, pad_mode: str = "edge"
) -> torch.Tensor:
    """Frame indices ``(B, N)`` of the windows centred on ``frame (B,)`` in sequences of
    ``length (B,)`` (see the module docstring for the padding rules).

    With ``pad_mode="official"`` a window that overflows both sequence ends raises
    ``DataError`` (the official generator produces a short window there)."""
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    pad = (frames - 1) // 2
    k = torch.arange(-pad, pad + 1, device=frame.device) * tds
    idx = frame[:, None] + k[None, :]
    last = (length - 1)[:, None]
    if pad_mode == "official":
        both = (frame - pad * tds < 0) & (frame + pad * tds > length - 1)
        if bool(both.any()):
            i = int(both.nonzero()[0, 0])
            t, n = int(frame[i]), int(length[i])
            raise DataError(
                f"pad_mode 'official': the window of frame {t} overflows both ends of a {n}-frame sequence "
                f"(window span {window_span(frames, tds)}); the official generator yields "
                f"{len(official_window(t, n, frames, tds))} frames there instead of {frames}, which the official "
                "model cannot take. Use pad_mode 'edge'."
            )
    return torch.minimum(idx.clamp_min(0), last)


def _sequence_name(seq: Any, i: int) -> str:
    parts = [str(getattr(seq, a)) for a in ("subject", "action") if getattr(seq, a, "")]
    if getattr(seq, "camera", None) is not None and parts:
        parts.append(f"camera {seq.camera}")
    return f"sequence {i} ({' '.join(parts)})" if parts else f"sequence {i}"


def _check_official_padding(
    sequences: SequenceABC[Any], poses_2d: list[np.ndarray], frames: int, tds: int
) -> None:
    """``pad_mode="official"``: refuse sequences shorter than ``(N - 1) * tds`` frames, where some
    window overflows both ends and the official generator yields a short window and fails."""
    need = (frames - 1) * tds
    short = [i for i, p in enumerate(poses_2d) if p.shape[0] < need]
    if short:
        i, n = short[0], poses_2d[short[0]].shape[0]
        sizes = [len(official_window(t, n, frames, tds)) for t in range(n)]
        raise DataError(
            f"pad_mode 'official': {_sequence_name(sequences[i], i)} has {n} frames, fewer than "
            f"(N-1)*tds = {need} (N={frames}, tds={tds}), so some of its windows overflow both ends, where the "
            f"official generator yields windows as short as {min(sizes)} frames instead of {frames}, "
            f"which the official model cannot take ({len(short)} such sequences). Use pad_mode 'edge'."
        )


def _check_batcher_arguments(
    frames: int, tds: int, pad_mode: str, rank: int, world_size: int, batch_size: int, count: int
) -> None:
    """The :class:`WindowBatcher` arguments a caller can get wrong, as ``ValueError``."""
    if frames < 1 or frames % 2 == 0:
        raise ValueError(f"frames must be a positive odd number, got {frames}")
    if tds < 1:
        raise ValueError(f"tds must be >= 1, got {tds}")
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} must be in [0, world_size={world_size})")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if count == 0:
        raise ValueError("no sequences")


def _stack_3d(
    sequences: SequenceABC[Any], poses_2d: list[np.ndarray], device: torch.device
) -> torch.Tensor | None:
    """Every sequence's ``pose_3d`` cut to its 2D length and concatenated ``(F, J, 3)``, or None
    when some sequence has none; a 3D shorter than its 2D is a ``ValueError``."""
    if not all(getattr(s, "pose_3d", None) is not None for s in sequences):
        return None
    parts = [np.asarray(s.pose_3d, dtype=np.float32)[: len(p)] for s, p in zip(sequences, poses_2d)]
    if any(len(q) != len(p) for q, p in zip(parts, poses_2d)):
        raise ValueError("pose_3d shorter than pose_2d in some sequence")
    return torch.from_numpy(np.concatenate(parts)).to(device)


class WindowBatcher:
    """Shuffled, sharded, resumable batches of many-to-one windows.

    ``sequences``: list of :class:`pstmo.data.Sequence` (or objects with ``pose_2d (T, J, 2)``
    and ``pose_3d (T, J, 3) | None``). All data is concatenated once into tensors on
    ``device``; each batch is one gather.

    Order: with ``shuffle`` a permutation from ``torch.Generator().manual_seed(seed + epoch)``;
    DDP sharding as ``torch.utils.data.DistributedSampler`` (pad to a multiple of
    ``world_size`` by wrapping around, or drop the tail with ``drop_last``; rank ``r`` takes
    items ``r, r + world_size, ...``); ``drop_last`` also drops a last incomplete batch.

    Resuming: ``state_dict()`` stores ``(epoch, position)`` where ``position`` counts the
    batches already handed out in this epoch; after ``load_state_dict`` iteration continues
    at that batch. Exhausting an epoch advances to the next one; ``set_epoch(e)`` with a new
    ``e`` restarts at batch 0 (with the current ``e`` it keeps the position, so the usual
    ``for e in range(start, E): set_epoch(e); for batch in batcher: ...`` resumes correctly).

    ``skeleton`` gives the left/right joints for ``flip`` (pass ``dataset.skeleton``:
    MPI-INF-3DHP and HumanEva differ from the Human3.6M default).

    ``reuse_buffers``: gather into two preallocated output buffers used in turn instead of
    allocating every batch. A batch of 1024 windows of 243 frames is ~85 MB, and on CPU a fresh
    allocation of that size costs page faults that take ~4x longer than the gather itself. With
    it, a batch stays valid only until the batcher has produced the batch after the next one:
    right for a training loop that consumes each batch before asking for more (the engine),
    wrong for ``list(batcher)``, hence off by default.
    """

    def __init__(
        self,
        sequences: SequenceABC[Any],
        frames: int,
        tds: int = 1,
        batch_size: int = 1024,
        shuffle: bool = True,
        seed: int = 0,
        flip: bool = False,
        pad_mode: str = "edge",
        rank: int = 0,
        world_size: int = 1,
        device: str | torch.device = "cpu",
        drop_last: bool = False,
        reverse: bool = False,
        skeleton: Skeleton | None = None,
        reuse_buffers: bool = False,
    ):
        _check_batcher_arguments(frames, tds, pad_mode, rank, world_size, batch_size, len(sequences))
        self.frames, self.tds, self.batch_size = frames, tds, batch_size
        self.shuffle, self.seed, self.flip, self.reverse = shuffle, seed, flip, reverse
        self.pad_mode, self.rank, self.world_size, self.drop_last = pad_mode, rank, world_size, drop_last
        self.device = torch.device(device)

        poses_2d = [np.asarray(s.pose_2d, dtype=np.float32) for s in sequences]
        J = poses_2d[0].shape[1]
        if any(p.ndim != 3 or p.shape[1] != J or p.shape[2] != 2 or p.shape[0] == 0 for p in poses_2d):
            raise ValueError(f"every sequence needs pose_2d of shape (T > 0, {J}, 2)")
        self.skeleton = skeleton if skeleton is not None else H36M_SKELETON
        if flip and self.skeleton.num_joints != J:
            raise ValueError(f"flip needs a skeleton with {J} joints; pass skeleton=dataset.skeleton")
        lengths = torch.tensor([p.shape[0] for p in poses_2d], dtype=torch.long)
        if pad_mode == "official":  # some window would overflow both ends (module docstring)
            _check_official_padding(sequences, poses_2d, frames, tds)
        self.data_2d = torch.from_numpy(np.concatenate(poses_2d)).to(self.device)
        self.data_3d = _stack_3d(sequences, poses_2d, self.device)
        self.lengths = lengths.to(self.device)
        self.offsets = (torch.cumsum(lengths, 0) - lengths).to(self.device)
        self.target_seq = torch.repeat_interleave(torch.arange(len(lengths)), lengths).to(self.device)
        self.target_frame = (
            torch.arange(int(lengths.sum())) - torch.repeat_interleave(self.offsets.cpu(), lengths)
        ).to(self.device)
        self.num_frames = int(lengths.sum())
        if flip:  # rows [F, 2F) hold the flipped data: one gather serves both
            self.data_2d = torch.cat([self.data_2d, flip_poses(self.data_2d, self.skeleton)])
            if self.data_3d is not None:
                self.data_3d = torch.cat([self.data_3d, flip_poses(self.data_3d, self.skeleton)])
        self.variants = (2 if flip else 1) * (2 if reverse else 1)
        self.epoch = 0
        self.position = 0
        self._order_cache: tuple[int, torch.Tensor] | None = None
        # Output buffers, reused round-robin when ``reuse_buffers`` (see the class docstring).
        self.reuse_buffers = reuse_buffers
        self._buffers: list[dict[str, torch.Tensor]] = []
        self._next_buffer = 0

    # -- sizes ------------------------------------------------------------------------
    @property
    def num_targets(self) -> int:
        """Number of distinct (sequence, frame) targets (before augmentation copies)."""
        return int(self.target_seq.shape[0])

    @property
    def num_items(self) -> int:
        """Windows per epoch over all ranks (targets x augmentation copies)."""
        return self.num_targets * self.variants

    @property
    def num_samples(self) -> int:
        """Windows per epoch for this rank (DistributedSampler's ``num_samples``)."""
        n, w = self.num_items, self.world_size
        if self.drop_last and n % w:
            return n // w
        return math.ceil(n / w)

    def __len__(self) -> int:
        n = self.num_samples
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def targets(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sequence index (M,), frame (M,))`` of the flat target list (``Batch.index``)."""
        return self.target_seq, self.target_frame

    # -- order ------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch = int(epoch)
            self.position = 0

    def epoch_order(self, epoch: int | None = None) -> torch.Tensor:
        """Item ids ``(num_samples,)`` of this rank for ``epoch`` (item = variant * M + target)."""
        epoch = self.epoch if epoch is None else epoch
        if self._order_cache is not None and self._order_cache[0] == epoch:
            return self._order_cache[1]
        n = self.num_items
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(n, generator=g)
        else:
            order = torch.arange(n)
        total = self.num_samples * self.world_size
        if total > n:  # wrap around to a multiple of world_size
            order = torch.cat([order] * math.ceil(total / n))
        order = order[:total][self.rank : total : self.world_size].to(self.device)
        self._order_cache = (epoch, order)
        return order

    # -- batches ----------------------------------------------------------------------
    def make_batch(self, items: torch.Tensor) -> Batch:
        """Gather the windows of item ids ``(B,)`` (see :meth:`epoch_order`)."""
        M = self.num_targets
        target = items % M
        variant = items // M
        flipped = (variant % 2 == 1) if self.flip else torch.zeros_like(target, dtype=torch.bool)
        rev = (variant // (2 if self.flip else 1) == 1) if self.reverse else torch.zeros_like(flipped)
        seq = self.target_seq[target]
        idx = window_indices(
            self.target_frame[target], self.lengths[seq], self.frames, self.tds, self.pad_mode
        )
        if self.reverse:
            idx = torch.where(rev[:, None], idx.flip(1), idx)
        B, N = idx.shape
        flat = idx + self.offsets[seq][:, None]
        if self.flip:  # flipped windows come from the pre-flipped copy of the data
            flat = flat + flipped[:, None].long() * self.num_frames
        flat = flat.reshape(-1)
        x2 = self._gather(self.data_2d, flat, "2d").view(B, N, *self.data_2d.shape[1:])
        x3 = None
        if self.data_3d is not None:
            x3 = self._gather(self.data_3d, flat, "3d").view(B, N, *self.data_3d.shape[1:])
        if self.reuse_buffers:  # the next batch gathers into the other buffer
            self._next_buffer ^= 1
        pad = (self.frames - 1) // 2
        center = x3[:, pad : pad + 1] if x3 is not None else None
        return Batch(pose_2d=x2, pose_3d=x3, center_3d=center, index=target, flipped=flipped, reversed=rev)

    def _gather(self, data: torch.Tensor, flat: torch.Tensor, key: str) -> torch.Tensor:
        """``data[flat]``, into the current reusable buffer when ``reuse_buffers``."""
        if not self.reuse_buffers:
            return data.index_select(0, flat)
        while len(self._buffers) < 2:
            self._buffers.append({})
        slot = self._buffers[self._next_buffer]
        shape = (flat.numel(), *data.shape[1:])
        buf = slot.get(key)
        if buf is None or buf.numel() < math.prod(shape):
            buf = slot[key] = torch.empty(shape, dtype=data.dtype, device=data.device)
        out = buf.view(-1)[: math.prod(shape)].view(shape)
        return torch.index_select(data, 0, flat, out=out)

    def __iter__(self) -> Iterator[Batch]:
        order = self.epoch_order()
        n_batches = len(self)
        while self.position < n_batches:
            b = self.position
            items = order[b * self.batch_size : (b + 1) * self.batch_size]
            self.position = b + 1
            yield self.make_batch(items)
        self.epoch += 1
        self.position = 0

    # -- resume -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, int]:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "num_items": self.num_items,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        for key in ("num_items", "batch_size", "world_size"):
            if key in state and int(state[key]) != getattr(self, key):
                raise ValueError(
                    f"batcher state has {key}={state[key]} but this batcher has {getattr(self, key)}: "
                    "the data or the batch settings changed"
                )
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.seed = int(state.get("seed", self.seed))
        self._order_cache = None
