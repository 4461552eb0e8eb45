"""Kernel manager for papermill runs: IPC transport on POSIX.

Over TCP, ipykernel 7 prints "Kernel is running over TCP without encryption" for every
notebook; local runs do not need TCP, and a Unix socket is also private to this machine. The
sockets live in a private temporary folder, not in the notebook's folder, so a killed run leaves
no ``kernel-ipc-N`` files among the user's notebooks. Referenced by import path from
:func:`pstmo.experiments.sweep.execute_notebook`.
"""

from __future__ import annotations

import os
import tempfile

from jupyter_client.manager import AsyncKernelManager


class LocalKernelManager(AsyncKernelManager):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if os.name == "posix":
            self.transport = "ipc"
            self.ip = os.path.join(tempfile.mkdtemp(prefix="pstmo-kernel-"), "kernel-ipc")
