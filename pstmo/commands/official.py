"""``pstmo official verify FIXTURE.npz``: prove that pstmo reproduces the official P-STMO.

The fixture (format of ``official_pstmo_tiny.npz``, see the shared fixtures README) holds
the official Stage II and Stage I state dicts, inputs and outputs. Both models are built
from ``config/*`` and the state-dict shapes, loaded with ``load_official_checkpoint`` and
run in eval mode; the max absolute error of each output is printed. Exit code 0 only if
all are below the tolerance (1e-4).
"""

from __future__ import annotations

import argparse

TOLERANCE = 1e-4


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("official", help="official P-STMO checkpoints: verify equivalence")
    sub = parser.add_subparsers(dest="official_command", metavar="ACTION")
    verify = sub.add_parser("verify", help="check pstmo against an official-output fixture (.npz)")
    verify.add_argument("fixture", help="fixture .npz (e.g. official_pstmo_tiny.npz)")
    verify.add_argument(
        "--tolerance", type=float, default=TOLERANCE, help="max abs error allowed (default 1e-4)"
    )
    verify.add_argument(
        "--attention", choices=("sdpa", "reference"), default="reference", help="attention implementation"
    )
    verify.set_defaults(func=_verify)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def verify_fixture(path: str, attention: str = "reference") -> dict[str, float]:
    """Max absolute errors ``{"stage2/output_single", "stage2/output_multi", "stage1/output"}``."""
    import numpy as np
    import torch

    from pstmo.data.check import load_npz
    from pstmo.errors import DataError
    from pstmo.models import MPM, STMO
    from pstmo.official import config_from_state_dict, load_official_checkpoint

    data = load_npz(path, allow_objects=False)  # numbers only; errors name file and key

    def get(key: str, ndim: int | None = None, what: str = "") -> np.ndarray:
        if key not in data.files:
            raise DataError(f"missing (expected {what or 'an array'})", path=path, key=key)
        arr = data[key]
        if ndim is not None and arr.ndim != ndim:
            raise DataError(f"expected {what}, got shape {arr.shape}", path=path, key=key)
        return arr

    def state_dict(stage: str) -> dict[str, torch.Tensor]:
        prefix = f"{stage}/state_dict/"
        sd = {
            k[len(prefix) :]: torch.from_numpy(np.array(data[k])) for k in data.files if k.startswith(prefix)
        }
        if not sd:
            raise DataError("no tensors found", path=path, key=prefix + "*")
        return sd

    def ours(key: str, coords: int) -> torch.Tensor:  # (B, C, N, J, 1) -> (B, N, J, C)
        arr = get(key, 5, f"(B, {coords}, N, J, 1)")
        if arr.shape[1] != coords or arr.shape[4] != 1:
            raise DataError(f"expected (B, {coords}, N, J, 1), got {arr.shape}", path=path, key=key)
        return torch.from_numpy(arr.astype(np.float32))[..., 0].permute(0, 2, 3, 1)

    frames = int(get("config/frames", 0, "a scalar"))
    strides = tuple(int(s) for s in np.atleast_1d(get("config/stride_num", 1, "(K,) strides")))
    errors: dict[str, float] = {}

    sd2 = state_dict("stage2")
    cfg2 = config_from_state_dict(sd2, frames=frames, strides=strides, attention=attention)
    stmo = load_official_checkpoint(STMO(cfg2), sd2).eval()
    sd1 = state_dict("stage1")
    cfg1 = config_from_state_dict(sd1, frames=frames, strides=strides, attention=attention)
    mpm = load_official_checkpoint(MPM(cfg1), sd1).eval()

    with torch.no_grad():
        out = stmo(ours("stage2/input", 2))
        errors["stage2/output_single"] = (out.center - ours("stage2/output_single", 3)).abs().max().item()
        errors["stage2/output_multi"] = (out.frames - ours("stage2/output_multi", 3)).abs().max().item()
        tmask = torch.from_numpy(get("stage1/temporal_mask", 1, "(N,) bool").astype(bool))
        smask = torch.from_numpy(get("stage1/spatial_mask", 2, "(N, J) bool").astype(bool))
        rec = mpm(ours("stage1/input", 2), tmask, smask, official_order=True)
        errors["stage1/output"] = (rec - ours("stage1/output", 2)).abs().max().item()
    return errors


def _verify(args: argparse.Namespace) -> int:
    errors = verify_fixture(args.fixture, attention=args.attention)
    ok = True
    for name, err in errors.items():
        good = err < args.tolerance
        ok &= good
        print(f"{name:24s} max abs error {err:.3e}  {'ok' if good else 'FAIL'}")
    print(f"{'PASS' if ok else 'FAIL'} (tolerance {args.tolerance:g})")
    return 0 if ok else 1
