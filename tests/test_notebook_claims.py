"""Our results are stated by code, not by prose: the notebooks' Markdown cells after the
parameters cell hold no number with a unit (a result written by hand goes stale the first
time the numbers change), every notebook that trains shows sentences built from its numbers,
and the contradictions a reader found once (issue 10) stay gone.

The teaching prose before the parameters cell states the paper's claims, with the paper's
numbers; that is allowed. The check covers the P-STMO teaching notebooks (00, 01, 05-08, 10, 11).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
PSTMO_NOTEBOOKS = (
    "00_quickstart", "01_masked_pose_modeling", "05_components", "06_sem_backbone", "07_tds_rate",
    "08_complexity", "10_skeleton_figures", "11_explorer",
)  # fmt: skip
#: Notebooks whose results need sentences made from numbers (08 counts and times; 11 is interactive).
TRAINING = ("00_quickstart", "01_masked_pose_modeling", "05_components", "06_sem_backbone", "07_tds_rate",
            "10_skeleton_figures")  # fmt: skip
#: a number followed by a unit of a result: "113 mm", "43.2mm", "82.3 %", "5.4 M", "3504 fps", "31 frames/s"
#: (a number glued to a word, as in "Human3.6M", is a name, not a result)
RESULT_WITH_UNIT = re.compile(
    r"(?<![A-Za-z.\d])\d+(?:[.,]\d+)?\s*(?:mm\b|%|M\b|fps\b|frames/s\b|frames per second\b)"
)
#: sentences of the old notebooks that contradicted the numbers beside them (issue 10, point 6)
CONTRADICTIONS = (
    "simplest backbones can even lead",
    "can hide the TDS gain",
    "digit by digit",
    "would mean an architecture mismatch",
    "Why our numbers differ from the paper's",
)


def _cells(name: str):
    return jupytext.read(NB_DIR / f"{name}.py").cells


def _after_parameters(cells):
    for i, cell in enumerate(cells):
        if "parameters" in cell.metadata.get("tags", []):
            return cells[i + 1 :]
    raise AssertionError("no cell tagged 'parameters'")


CODE_SPAN = re.compile(r"`[^`]*`")


def hand_written_results(cells) -> list[str]:
    """The Markdown lines after the parameters cell that state a number with a unit (code spans,
    e.g. a command with ``Human3.6M`` in a path, are not prose)."""
    return [
        line.strip()
        for cell in _after_parameters(cells)
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if RESULT_WITH_UNIT.search(CODE_SPAN.sub("", line))
    ]


@pytest.mark.parametrize("name", PSTMO_NOTEBOOKS)
def test_no_result_is_written_by_hand(name):
    assert hand_written_results(_cells(name)) == [], f"{name}: state results from the numbers, in code"


@pytest.mark.parametrize("name", TRAINING)
def test_result_sentences_are_made_from_the_numbers(name):
    code = "\n".join(c.source for c in _after_parameters(_cells(name)) if c.cell_type == "code")
    assert "display(Markdown(" in code and "findings." in code, f"{name}: no sentence built from its numbers"


@pytest.mark.parametrize("name", PSTMO_NOTEBOOKS)
def test_known_contradictions_are_gone(name):
    text = (NB_DIR / f"{name}.py").read_text(encoding="utf-8")
    assert not [c for c in CONTRADICTIONS if c in text]
    headings = [line for line in text.splitlines() if line.startswith("# #")]
    assert not [h for h in headings if "\\n" in h], f"{name}: a heading with a literal \\n"


def test_the_check_catches_a_hand_written_result():
    nb = jupytext.reads(
        '# %% [markdown]\n# The paper reports 43.0 mm.\n\n# %% tags=["parameters"]\nseed = 0\n\n'
        "# %% [markdown]\n# ## What the numbers show\n# Ours is 113 mm, 3.1x the paper's.\n\n"
        "# %% [markdown]\n# ## Fig. 4 with $q^T = 0.8$ and N = 243 frames\n"
        "# `pstmo reproduce --data-dir <prepared Human3.6M>` for Human3.6M frames\n",
        fmt="py:percent",
    )
    assert hand_written_results(nb.cells) == ["Ours is 113 mm, 3.1x the paper's."]
