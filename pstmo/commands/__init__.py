"""CLI sub-commands. Each module defines ``register(subparsers)``; keep imports of heavy
modules (torch, matplotlib) inside the command function so ``pstmo --help`` stays fast."""
