"""Windows per second: the vectorised WindowBatcher against a per-sample Python generator.

Usage: python benchmarks/bench_windows.py [--scale 1.0] [--frames 243] [--tds 1] [--device cpu]

The data is random, shaped like Human3.6M's training set (about 1.56M frames x 4 cameras,
in sequences of ~2,600 frames; 2D + 3D float32 is ~2 GB at ``--scale 1``). The baseline is a
literal per-sample loop in the style of the official ``ChunkedGenerator``: for every window,
slice the sequence, pad with ``np.repeat`` + ``np.concatenate``, subsample ``[::tds]``,
flip with a copy, and stack the batch. The script prints both rates and their ratio (the
target is >= 20x), then the time to build one batch of 1024 windows of N frames next to a
P-STMO-S training step (forward + backward, ``--model-batch`` windows) when pstmo.models is
importable. No assertion: timings are machine-dependent.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from pstmo.data import Sequence
from pstmo.data.windows import WindowBatcher
from pstmo.skeleton import flip_permutation

H36M_TRAIN_FRAMES = 1_559_752  # frames of S1, S5-S8 in VideoPose3D's 3D file (per camera)


def make_sequences(scale: float, seq_len: int = 2600, seed: int = 0) -> list[Sequence]:
    total = max(int(H36M_TRAIN_FRAMES * 4 * scale), seq_len)
    rng = np.random.default_rng(seed)
    n = max(total // seq_len, 1)
    data_2d = rng.standard_normal((n * seq_len, 17, 2), dtype=np.float32)
    data_3d = rng.standard_normal((n * seq_len, 17, 3), dtype=np.float32)
    return [
        Sequence(
            "S",
            "A",
            0,
            data_2d[i * seq_len : (i + 1) * seq_len],
            data_3d[i * seq_len : (i + 1) * seq_len],
            1000,
            1000,
        )
        for i in range(n)
    ]


def per_sample_batches(sequences, frames, tds, batch_size, n_batches, seed=0):
    """The baseline: one Python iteration, slices and concatenations per window."""
    pad = (frames - 1) // 2
    perm = flip_permutation()
    pairs = [(i, t) for i, s in enumerate(sequences) for t in range(len(s))]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    for b in range(n_batches):
        batch_2d, batch_3d = [], []
        for j in order[b * batch_size : (b + 1) * batch_size]:
            i, t = pairs[j]
            out = []
            for seq in (sequences[i].pose_2d, sequences[i].pose_3d):
                start, end = t - pad * tds, t + pad * tds + 1
                low, high = max(start, 0), min(end, len(seq))
                pad_left, pad_right = low - start, end - high
                data = seq[low:high]
                if pad_left or pad_right:
                    data = np.concatenate(
                        [np.repeat(seq[:1], pad_left, 0), data, np.repeat(seq[-1:], pad_right, 0)]
                    )
                data = data[::tds].copy()
                if j % 2:  # flip half of the windows
                    data = data[:, perm]
                    data[..., 0] *= -1
                out.append(data)
            batch_2d.append(out[0])
            batch_3d.append(out[1])
        yield torch.from_numpy(np.stack(batch_2d)), torch.from_numpy(np.stack(batch_3d))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the Human3.6M training set size"
    )
    parser.add_argument("--frames", type=int, default=243)
    parser.add_argument("--tds", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--batches", type=int, default=10, help="batches timed for each pipeline")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-model", action="store_true", help="skip the P-STMO-S training step")
    parser.add_argument(
        "--model-batch",
        type=int,
        default=None,
        help="batch of the P-STMO-S step (default: 1024 on GPU, 8 on CPU)",
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)

    t0 = time.perf_counter()
    sequences = make_sequences(args.scale)
    frames_total = sum(len(s) for s in sequences)
    print(
        f"data: {len(sequences)} sequences, {frames_total:,} frames ({time.perf_counter() - t0:.1f} s to generate)"
    )
    t0 = time.perf_counter()
    batcher = WindowBatcher(
        sequences,
        args.frames,
        tds=args.tds,
        batch_size=args.batch_size,
        flip=True,
        device=device,
        reuse_buffers=True,
    )
    print(f"WindowBatcher set-up: {time.perf_counter() - t0:.2f} s, {len(batcher):,} batches per epoch")

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    it = iter(batcher)
    next(it)  # warm-up
    sync()
    t0 = time.perf_counter()
    n = 0
    for _ in range(args.batches):
        n += len(next(it))
    sync()
    fast = n / (time.perf_counter() - t0)

    base_batches = max(1, args.batches // 5)
    t0 = time.perf_counter()
    m = 0
    for x2, _ in per_sample_batches(sequences, args.frames, args.tds, args.batch_size, base_batches):
        m += x2.shape[0]
    slow = m / (time.perf_counter() - t0)
    print(
        f"vectorised WindowBatcher : {fast:12,.0f} windows/s  (N={args.frames}, tds={args.tds}, flip, {device})"
    )
    print(f"per-sample Python loop   : {slow:12,.0f} windows/s")
    print(f"speed-up                 : {fast / slow:12.1f}x  (target >= 20x)")

    items = torch.arange(1024, device=device)
    batcher.make_batch(items)
    sync()
    t0 = time.perf_counter()
    batch = batcher.make_batch(items)
    sync()
    build = time.perf_counter() - t0
    print(f"one batch of 1024 windows (N={args.frames}): {build * 1000:.1f} ms")
    if args.no_model:
        return 0
    try:
        from pstmo.models import build_model, get_config
    except ImportError:
        return 0
    mb = args.model_batch or (1024 if device.type == "cuda" else 8)
    model = build_model(get_config("p-stmo-s", frames=args.frames)).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = batch.pose_2d[:mb]
    y = batch.center_3d[:mb]

    def step():
        out = model(x)
        loss = (out.center - y).norm(dim=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    sync()
    t0 = time.perf_counter()
    step()
    sync()
    model_step = time.perf_counter() - t0
    per_window_batch = build / 1024
    per_window_model = model_step / mb
    print(
        f"P-STMO-S training step, batch {mb}: {model_step * 1000:.1f} ms; per window: batch building "
        f"{per_window_batch * 1e6:.1f} us vs model {per_window_model * 1e6:.1f} us "
        f"({100 * per_window_batch / (per_window_batch + per_window_model):.1f}% of a step)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
