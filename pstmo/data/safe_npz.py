"""Safe reading of ``.npz`` / ``.npy`` files: NumPy's pickles without running code.

VideoPose3D's format (``positions_3d``, ``positions_2d``, ``metadata``) and P-STMO's
MPI-INF-3DHP files (``data``) store nested dicts as 0-d *object* arrays, which NumPy writes
with :mod:`pickle`. ``np.load(..., allow_pickle=True)`` would run whatever a crafted file's
pickle asks for (``os.system``, ``eval``, ...). Here no file goes through ``np.load``'s
unpickling:

- numeric members are read with ``numpy.lib.format.read_array(..., allow_pickle=False)``;
- object members are read by hand (the ``.npy`` header through ``numpy.lib.format``, then
  the pickle stream) with :class:`RestrictedUnpickler`, whose ``find_class`` admits only the
  few globals NumPy's own pickles of arrays, dtypes and scalars name (under both the
  ``numpy.core`` and ``numpy._core`` module names), each wrapped so that it can only build
  what NumPy's pickles build. Dicts, lists, tuples, strings, bytes, numbers, bools and None
  need no global at all. Anything else (``builtins.eval``, ``os.system``, ``subprocess.Popen``,
  ``builtins.getattr``, other NumPy functions, ...) is refused before it is looked up, with
  one :class:`~pstmo.errors.DataError` sentence naming file and key.

``open_npz(path)`` returns a :class:`SafeNpz` (``files``, ``npz[key]``, ``key in npz``);
``load_npy(path)`` reads a plain ``.npy`` array. ``allow_objects=False`` refuses object
members outright (files that hold only numbers: keypoints, fixtures).
"""

from __future__ import annotations

import collections
import math
import os
import pickle
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from pstmo.errors import DataError

try:  # NumPy >= 2
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
    from numpy._core.multiarray import scalar as _np_scalar
except ImportError:  # NumPy 1.26
    from numpy.core.multiarray import _reconstruct as _np_reconstruct
    from numpy.core.multiarray import scalar as _np_scalar

__all__ = ["SafeNpz", "RestrictedUnpickler", "open_npz", "load_npy", "read_npy", "ALLOWED_GLOBALS"]

_ALLOWED_TEXT = "only dicts, lists, tuples, strings, numbers and NumPy arrays are unpickled"


# --------------------------------------------------------------------------------------
# The admitted globals, each a narrow wrapper around what NumPy's own pickles call
# --------------------------------------------------------------------------------------


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` in a pickle: a marker for ``_reconstruct``, not callable."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _NdarrayToken()


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """``ndarray.__reduce__``'s callable: an empty base-class array that ``__setstate__`` fills
    (NumPy always pickles the dummy arguments ``(ndarray, (0,), b'b')``)."""
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(f"_reconstruct of {subtype!r}, expected numpy.ndarray")
    return _np_reconstruct(np.ndarray, (0,), b"b")


def _dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    """``dtype.__reduce__``'s callable ``numpy.dtype(str, bool, bool)``."""
    if not isinstance(spec, str) or not isinstance(align, bool) or not isinstance(copy, bool):
        raise pickle.UnpicklingError(f"numpy.dtype{(spec, align, copy)!r}: expected (str, bool, bool)")
    return np.dtype(spec, align=align, copy=copy)


def _scalar(dtype: Any, *args: Any) -> Any:
    """A NumPy scalar (``numpy.float64(1.5)``) from its dtype and raw bytes."""
    if not isinstance(dtype, np.dtype) or len(args) > 1:
        raise pickle.UnpicklingError("numpy scalar: expected (dtype, bytes)")
    return _np_scalar(dtype, *args)


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """Pickle protocol 5's array callable: bytes -> array of ``dtype`` and ``shape``."""
    if (
        not isinstance(buf, bytes | bytearray | pickle.PickleBuffer)
        or not isinstance(dtype, np.dtype)
        or dtype.hasobject
        or not isinstance(shape, tuple)
        or order not in ("C", "F")
    ):
        raise pickle.UnpicklingError("numpy _frombuffer: expected (bytes, numeric dtype, shape, 'C'|'F')")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order).copy()


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    """Pickle protocol 2's way to store ``bytes``: ``_codecs.encode(str, 'latin1')``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode: only (str, 'latin1') stores bytes")
    return text.encode("latin1")


#: (module, name) -> what the restricted unpickler hands out for it.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1,
    ("collections", "OrderedDict"): collections.OrderedDict,
}
for _core in ("numpy.core", "numpy._core"):
    ALLOWED_GLOBALS[(f"{_core}.multiarray", "_reconstruct")] = _reconstruct
    ALLOWED_GLOBALS[(f"{_core}.multiarray", "scalar")] = _scalar
    ALLOWED_GLOBALS[(f"{_core}.numeric", "_frombuffer")] = _frombuffer


class _Refused(Exception):
    """Raised by the unpickler for anything outside :data:`ALLOWED_GLOBALS`; ``what`` names it."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`; every other global (and any
    persistent id) raises before anything is imported or called."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise _Refused(f"{module}.{name}"[:120]) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused(f"an external object (persistent id {pid!r:.40})")


# --------------------------------------------------------------------------------------
# .npy members
# --------------------------------------------------------------------------------------


def _read_header(fh: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of a ``.npy`` stream, leaving ``fh`` at the data.

    The header is a Python literal that NumPy parses with ``ast.literal_eval`` (no code).
    Version 3.0 differs from 2.0 only in encoding the header as UTF-8 instead of latin-1,
    which matters only for non-ASCII field names of structured dtypes.
    """
    version = npy_format.read_magic(fh)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(fh)
    if version in ((2, 0), (3, 0)):
        return npy_format.read_array_header_2_0(fh)
    raise ValueError(f"unsupported .npy format version {version}")


def read_npy(
    open_member: Callable[[], Any], size: int, path: str, key: str | None, allow_objects: bool = True
) -> np.ndarray:
    """One ``.npy`` array from ``open_member()`` (a context manager giving a fresh binary stream of
    ``size`` bytes on each call).

    Numeric arrays: ``numpy.lib.format.read_array(allow_pickle=False)``. Object arrays: the
    restricted unpickler (or a refusal if ``allow_objects`` is False). Every failure is a
    :class:`DataError` naming ``path`` and ``key``.
    """
    try:
        with open_member() as fh:
            shape, fortran, dtype = _read_header(fh)
            if not dtype.hasobject:
                count = math.prod(shape)  # Python ints: no overflow for absurd headers
                if min(shape, default=0) < 0 or count * dtype.itemsize > size:
                    raise DataError(
                        f"the header declares {shape} {dtype} ({count * dtype.itemsize} bytes) but the member "
                        f"holds {size} bytes; the file is truncated or corrupt",
                        path=path,
                        key=key,
                    )
            else:
                if not allow_objects:
                    raise DataError(
                        "holds pickled Python objects; expected a numeric array (objects are not loaded "
                        "from this kind of file)",
                        path=path,
                        key=key,
                    )
                if dtype != np.dtype(object):
                    raise DataError(
                        f"a structured array with Python objects ({dtype}) is not part of the format",
                        path=path,
                        key=key,
                    )
                return _unpickle_array(fh, shape, path, key)
        with open_member() as fh:
            return npy_format.read_array(fh, allow_pickle=False)
    except DataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError ...
        raise DataError(
            f"cannot read this member, the file may be truncated ({type(exc).__name__}: {exc})",
            path=path,
            key=key,
        ) from None


def _unpickle_array(fh: BinaryIO, shape: tuple[int, ...], path: str, key: str | None) -> np.ndarray:
    try:
        value = RestrictedUnpickler(fh, encoding="latin1").load()
    except _Refused as refused:
        raise DataError(
            f"refuses to load: the pickled object references {refused.what}, "
            f"which a pose file never needs ({_ALLOWED_TEXT})",
            path=path,
            key=key,
        ) from None
    except RecursionError:
        raise DataError("the pickled object is nested too deeply", path=path, key=key) from None
    except Exception as exc:
        raise DataError(
            f"cannot unpickle this member ({type(exc).__name__}: {exc}); the file may be truncated or "
            f"not written by NumPy",
            path=path,
            key=key,
        ) from None
    if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
        raise DataError(
            f"the pickle holds {type(value).__name__}, expected the object array of shape {tuple(shape)} "
            "that its header declares",
            path=path,
            key=key,
        )
    return value


# --------------------------------------------------------------------------------------
# .npz archives and .npy files
# --------------------------------------------------------------------------------------


class SafeNpz:
    """A read-only ``.npz`` archive: ``files`` (member names without ``.npy``), ``npz[key]``.

    Each member is read through :func:`read_npy`. Like ``np.load``'s ``NpzFile`` it keeps the
    archive open until :meth:`close` (or the end of a ``with`` block, or garbage collection).
    """

    def __init__(self, path: str | os.PathLike, allow_objects: bool = True):
        self.path = Path(path)
        self.allow_objects = allow_objects
        self._zip: zipfile.ZipFile | None = zipfile.ZipFile(self.path)
        self._members = {
            info.filename[: -len(".npy")]: (info.filename, info.file_size)
            for info in self._zip.infolist()
            if info.filename.endswith(".npy")
        }
        self.files: list[str] = list(self._members)

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._members:
            raise DataError(
                f"missing key (the archive has {sorted(self.files)})", path=str(self.path), key=key
            )
        if self._zip is None:
            raise DataError("the archive is closed", path=str(self.path), key=key)
        member, size = self._members[key]
        return read_npy(
            lambda: self._zip.open(member), size, str(self.path), key, allow_objects=self.allow_objects
        )

    def close(self) -> None:
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> SafeNpz:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SafeNpz({str(self.path)!r}, files={self.files})"


def open_npz(path: str | os.PathLike, allow_objects: bool = True) -> SafeNpz:
    """Open an ``.npz`` archive safely; a missing, non-zip or unreadable file is a DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.is_dir():
        raise DataError("expected an .npz file, got a directory", path=str(path))
    if not zipfile.is_zipfile(path):
        raise DataError("not an .npz archive (not a zip file, or truncated)", path=str(path))
    try:
        return SafeNpz(path, allow_objects=allow_objects)
    except Exception as exc:  # zipfile.BadZipFile, OSError ...
        raise DataError(f"cannot read the .npz archive ({exc})", path=str(path)) from None


def load_npy(path: str | os.PathLike, allow_objects: bool = False) -> np.ndarray:
    """Read a ``.npy`` file safely (object arrays refused unless ``allow_objects``)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.is_dir():
        raise DataError("expected a .npy file, got a directory", path=str(path))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc})", path=str(path)) from None
    return read_npy(lambda: open(path, "rb"), size, str(path), None, allow_objects=allow_objects)
