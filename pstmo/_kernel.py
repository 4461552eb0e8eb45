"""Kernel manager for papermill runs: IPC transport on POSIX.

Over TCP, ipykernel 7 prints "Kernel is running over TCP without encryption" for every
notebook; local runs do not need TCP, and a Unix socket is also private to this machine.
Referenced by import path from :func:`pstmo.sweep.execute_notebook`.
"""

from __future__ import annotations

import os

from jupyter_client.manager import AsyncKernelManager


class LocalKernelManager(AsyncKernelManager):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if os.name == "posix":
            self.transport = "ipc"
