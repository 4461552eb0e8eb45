"""``pstmo official verify FIXTURE.npz``: prove that pstmo reproduces the official P-STMO.

Two kinds of fixture, recognised by their keys (``pstmo.official.verify``; formats in the
shared fixtures README):

- forward pass (``official_pstmo_tiny.npz``): the eval-mode outputs of both stages; the max
  absolute error of each output is printed, exit 0 only if all are below ``--tolerance``
  (default 1e-4).
- training step (``official_pstmo_train_step.npz``): one official training step per stage;
  per stage the loss error, the worst gradient error and the worst weight error after one
  ``Adam(lr, amsgrad=True)`` step are printed with the parameter named (pstmo and official
  name); exit 0 only if all are within ``--tolerance`` (default 1e-5; entries whose gradient
  is zero at the precision the gradients agree are held to a step of at most ``lr``, see
  ``pstmo.official.verify``).

A malformed fixture exits 2 with one line naming the file and the key.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pstmo.commands import float_in

if TYPE_CHECKING:  # pstmo.official.verify needs torch: imported when the command runs
    from pstmo.official.verify import StageCheck


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("official", help="official P-STMO checkpoints: verify equivalence")
    sub = parser.add_subparsers(dest="official_command", metavar="ACTION")
    verify = sub.add_parser(
        "verify", help="check pstmo against an official fixture (.npz: forward pass or training step)"
    )
    verify.add_argument("fixture", help="official_pstmo_tiny.npz or official_pstmo_train_step.npz format")
    verify.add_argument(
        "--tolerance",
        type=float_in(0, 1.0),
        default=None,
        help="max abs error allowed (default: pstmo.official.verify's tolerance for the fixture's kind, "
        "printed with the verdict)",
    )
    verify.add_argument(
        "--attention", choices=("sdpa", "reference"), default="reference", help="attention implementation"
    )
    verify.set_defaults(func=_verify)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _mark(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def _print_stage(c: StageCheck) -> None:
    print(f"{c.stage} ({c.title}, Adam lr {c.lr:g}, amsgrad)")
    print(
        f"  loss      {c.loss:.7f} vs official {c.official_loss:.7f}: error {c.loss_error:.3e}  {_mark(c.loss_ok)}"
    )
    print(
        f"  gradient  worst error {c.grad_error:.3e} at {c.grad_param[0]} "
        f"(official {c.grad_param[1]})  {_mark(c.grad_ok)}"
    )
    print(
        f"  weights   worst error {c.weight_error:.3e} after one step at {c.weight_param[0]} "
        f"(official {c.weight_param[1]})  {_mark(c.weight_ok)}"
    )
    if c.zero_grad_param is not None:
        print(
            f"  zero-gradient entries ({c.zero_grad_entries}, |official grad| <= {c.zero_grad_threshold:.1e}): "
            f"largest step {c.zero_grad_step:.3e} <= lr + tol {c.zero_grad_bound:.3e} at {c.zero_grad_param[0]} "
            f"(official {c.zero_grad_param[1]}); ours vs official differ by <= {c.zero_grad_error:.3e}  "
            f"{_mark(c.zero_grad_ok)}"
        )


def _verify(args: argparse.Namespace) -> int:
    from pstmo.data.files import check_regular_file
    from pstmo.official.verify import FORWARD_TOLERANCE, TRAIN_TOLERANCE, verify_fixture

    check_regular_file(args.fixture, "an official fixture (.npz)")
    train_tol = TRAIN_TOLERANCE if args.tolerance is None else args.tolerance
    result = verify_fixture(args.fixture, attention=args.attention, tolerance=train_tol)
    if isinstance(result, list):  # a training-step fixture: one StageCheck per stage
        for check in result:
            _print_stage(check)
        ok = all(c.ok for c in result)
        print(f"{'PASS' if ok else 'FAIL'} (training step, tolerance {train_tol:g})")
        return 0 if ok else 1
    tol = FORWARD_TOLERANCE if args.tolerance is None else args.tolerance
    ok = True
    for name, err in result.items():
        good = err < tol
        ok &= good
        print(f"{name:24s} max abs error {err:.3e}  {_mark(good)}")
    print(f"{'PASS' if ok else 'FAIL'} (forward pass, tolerance {tol:g})")
    return 0 if ok else 1
