"""Where results and figures go: ``<repo>/results`` and ``<repo>/figures``.

Notebooks run with their own folder as the working directory (nbval, papermill), so the
repository root is found by walking up from the working directory to the ``pyproject.toml``
of ``pstmo``. When ``pstmo`` runs outside a checkout, ``./results`` and ``./figures`` of the
working directory are used. ``PSTMO_ROOT`` overrides the root.
"""

from __future__ import annotations

import os
from pathlib import Path


def _is_pstmo_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        return 'name = "pstmo"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The pstmo checkout containing ``start`` (default: the cwd), else ``start`` itself."""
    env = os.environ.get("PSTMO_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if _is_pstmo_root(folder):
            return folder
    return here


def results_dir(*parts: str, create: bool = True) -> Path:
    """``<root>/results[/parts...]`` (created unless ``create=False``)."""
    path = repo_root().joinpath("results", *parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir(*parts: str, create: bool = True) -> Path:
    """``<root>/figures[/parts...]`` (created unless ``create=False``)."""
    path = repo_root().joinpath("figures", *parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def notebooks_dir() -> Path:
    """``<root>/notebooks`` (the notebooks ship with the repository, not the package)."""
    return repo_root() / "notebooks"
