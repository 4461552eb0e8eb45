"""Exceptions with messages a user can act on."""

from __future__ import annotations


class PstmoError(Exception):
    """Base class for errors raised by pstmo."""


class DataError(PstmoError, ValueError):
    """Bad input data: the message names the file, the key and the expected shape."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        prefix = ""
        if path is not None:
            prefix += f"{path}: "
        if key is not None:
            prefix += f"key {key!r}: "
        super().__init__(prefix + message)
        self.path = path
        self.key = key


class CheckpointError(PstmoError, ValueError):
    """A checkpoint that does not fit the model it is loaded into."""


class ConfigError(PstmoError, ValueError):
    """A configuration value out of its allowed range (the message names the value and the range)."""


class TrainingError(PstmoError, RuntimeError):
    """Training cannot continue (e.g. the loss became NaN or infinite)."""
