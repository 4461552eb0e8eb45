"""pstmo.experiments.notebook: the set-up every notebook shares (folders, label, tables, figures, animations)."""

from __future__ import annotations

import base64
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from pstmo import paths  # noqa: E402
from pstmo.experiments import notebook  # noqa: E402
from pstmo.report import tables as report_tables  # noqa: E402
from pstmo.report import viz  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def shell():
    """A real IPython shell, so ``display`` produces rich outputs as in a kernel."""
    ip = InteractiveShell.instance()
    yield ip
    InteractiveShell.clear_instance()


@pytest.fixture
def nb(tmp_path, shell):
    return notebook.setup("99_test", "smoke", "demo", None, "cpu", 3, tmp_path, verbose=False)


def _figure():
    fig = viz.new_figure(2.0, 1.5, dpi=50)
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    return fig


def test_out_dir_puts_tables_in_it_and_figures_below(nb, tmp_path):
    assert nb.results == tmp_path and nb.figures == tmp_path / "figures"
    assert nb.figures.is_dir()
    assert nb.label == "ours (demo data, smoke profile)"
    assert nb.meta == {
        "notebook": "99_test", "profile": "smoke", "dataset": "demo", "data_dir": None, "device": "cpu", "seed": 3,
    }  # fmt: skip


def test_default_folders_are_the_repositorys(tmp_path, monkeypatch, shell):
    monkeypatch.setenv("PSTMO_ROOT", str(tmp_path))
    nb = notebook.setup("99_test", "paper", "h36m", "/data", verbose=False)
    # only the demo profile writes the stored results/ and figures/; the others beside them
    assert nb.results == paths.results_dir("paper") == tmp_path / "results" / "paper"
    assert nb.figures == paths.figures_dir("paper") == tmp_path / "figures" / "paper"
    assert nb.label == "ours (Human3.6M data, paper profile)"
    assert nb.meta["data_dir"] == "/data"
    demo = notebook.setup("99_test", "demo", verbose=False)
    assert demo.results == tmp_path / "results" and demo.figures == tmp_path / "figures"


def test_setup_prints_where_outputs_go(tmp_path, capsys, shell):
    notebook.setup("99_test", out_dir=tmp_path)
    out = capsys.readouterr().out
    assert "ours (demo data, smoke profile)" in out and str(tmp_path) in out


def test_figure_is_saved_and_the_same_png_is_displayed(nb):
    with capture_output() as cap:
        assert nb.figure(_figure(), "99_line") is None  # a cell ending with it shows only the image
    path = nb.figures / "99_line.png"
    saved = path.read_bytes()
    assert saved[:8] == PNG_MAGIC
    assert [p.name for p in nb.figures.iterdir()] == ["99_line.png"]  # atomic: no temp file left
    (out,) = cap.outputs
    assert base64.b64decode(out.data["image/png"]) == saved


def test_bad_figure_name_is_refused(nb):
    with pytest.raises(ValueError, match="plain file stem"):
        nb.figure(_figure(), "../outside")


def test_table_is_written_with_meta_and_displayed(nb):
    df = pd.DataFrame([{"Method": "P-STMO-S", "MPJPE": 43.04}])
    with capture_output() as cap:
        assert nb.table(df, "99_table", frames=9) is None
    stored = json.loads((nb.results / "99_table.json").read_text())
    assert stored["rows"] == [{"Method": "P-STMO-S", "MPJPE": 43.04}]
    assert stored["meta"]["ours"] == nb.label and stored["meta"]["frames"] == 9
    assert stored["meta"]["notebook"] == "99_test" and stored["meta"]["seed"] == 3
    assert (nb.results / "99_table.csv").is_file() and (nb.results / "99_table.md").is_file()
    (out,) = cap.outputs
    assert "| P-STMO-S | 43.04 |" in out.data["text/markdown"]


def test_table_title_and_note_are_shown_and_stored(nb):
    df = pd.DataFrame([{"N": 27, "MPJPE": 43.04}])
    with capture_output() as cap:
        nb.table(df, "99_titled", title="P-STMO Table 5: TDS", note="ours: 3 seeds")
    (out,) = cap.outputs
    text = out.data["text/markdown"]
    assert text.startswith("**P-STMO Table 5: TDS**") and text.rstrip().endswith("ours: 3 seeds")
    stored = json.loads((nb.results / "99_titled.json").read_text())
    assert stored["meta"]["title"] == "P-STMO Table 5: TDS" and stored["meta"]["note"] == "ours: 3 seeds"


def _tables(markdown: str) -> list[list[list[str]]]:
    """The Markdown tables in ``markdown``: rows of cells (header first, rule dropped)."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            if not line.startswith("| ---"):
                current.append([c.strip() for c in line.strip("|").split(" | ")])
        elif current:
            tables.append(current)
            current = []
    return tables


def _min_width(table: list[list[str]]) -> int:
    """A table's narrowest rendering in characters: per column its longest word, plus 2."""
    return sum(max(max((len(w) for w in cell.split()), default=1) for cell in col) + 2 for col in zip(*table))


def _per_action_table(label: str) -> pd.DataFrame:
    """A 17-action table as the notebooks stack it (papers.beside): the paper's rows with 17
    actions, ours with two demo actions and the seed spread."""
    from pstmo.report import papers

    actions = [f"Action{i:02d}." for i in range(17)]
    theirs = pd.DataFrame(
        [{"Method": f"Someone et al. [{i}] CVPR'2{i} (N=243)", **{a: 40.0 + i + k / 10 for k, a in enumerate(actions)},
          "Avg": 45.0 + i} for i in range(6)]
    )  # fmt: skip
    ours = pd.DataFrame(
        [{"Method": "P-STMO-S, ours (N=27, demo det)", "Walk (demo)": 109.7, "Kick (demo)": 150.3, "Avg": 130.0,
          "std (seeds)": 2.1},
         {"Method": "mean training pose (no model)", "Walk (demo)": 166.0, "Kick (demo)": 188.3, "Avg": 177.1}]
    )  # fmt: skip
    return papers.beside(ours, theirs, label=label)


def test_a_17_action_table_is_shown_narrow_with_our_columns_first(nb):
    df = _per_action_table(nb.label)
    assert (
        _min_width([list(map(str, df.columns))]) > 2 * report_tables.DISPLAY_WIDTH
    )  # far too wide as stored
    with capture_output() as cap:
        nb.table(df, "99_actions", decimals=1, title="P-STMO Table 1: MPJPE (mm)", note="ours: one seed")
    text = cap.outputs[0].data["text/markdown"]
    tables = _tables(text)
    for table in tables:  # every table shown fits JupyterLab's output area (1,150 px window)
        assert _min_width(table) <= report_tables.DISPLAY_WIDTH, table[0]
        assert _min_width(table) == report_tables.table_width(pd.DataFrame(table[1:], columns=table[0]))
    ours_first = ["Source", "Method", "Walk (demo)", "Kick (demo)", "Avg", "std (seeds)"]  # ours before Avg
    assert tables[0][0] == ours_first
    assert [r[2:4] for r in tables[0][1:] if r[0] != "paper"] == [["109.7", "150.3"], ["166.0", "188.3"]]
    # the paper's per-action columns: after the note, folded (collapsed), every one of them, paper rows only
    head, fold = text.split("<details>")
    assert "ours: one seed" in head and "</details>" in fold and "<summary>" in fold
    folded = [c for t in tables[1:] for c in t[0] if c != "Method"]
    assert folded == [f"Action{i:02d}." for i in range(17)]
    assert all(len(t) == 1 + 6 for t in tables[1:])
    assert {t[0][0] for t in tables[1:]} == {"Method"}
    # the stored files keep every column in one table
    stored = (nb.results / "99_actions.md").read_text()
    assert [list(map(str, df.columns))] == [t[0] for t in _tables(stored)]
    assert json.loads((nb.results / "99_actions.json").read_text())["columns"] == list(map(str, df.columns))


def test_a_narrow_table_is_shown_whole_and_a_wide_one_without_per_action_columns_is_cut(nb):
    narrow = pd.DataFrame([{"N": 27, "s": 3, "MPJPE (paper)": 44.4, f"MPJPE ({nb.label})": 101.2}])
    assert report_tables.display_markdown(narrow) == report_tables.to_markdown(narrow)
    wide = pd.DataFrame([{"cell": "det-n9", **{f"metric_number_{i}": 1.5 + i for i in range(12)}}])
    tables = _tables(report_tables.display_markdown(wide, note="a note"))
    assert len(tables) > 1 and all(_min_width(t) <= report_tables.DISPLAY_WIDTH for t in tables)
    assert all(t[0][0] == "cell" for t in tables)  # the row labels repeated
    assert [c for t in tables for c in t[0][1:]] == list(wide.columns[1:])  # every column, in order


def test_summary_merges_parameters_into_meta(nb):
    nb.summary({"mpjpe": 101.5}, frames=9)
    stored = json.loads((nb.results / "99_test.summary.json").read_text())
    assert stored["metrics"] == {"mpjpe": 101.5}
    assert stored["parameters"]["frames"] == 9 and stored["parameters"]["notebook"] == "99_test"


def test_animation_is_written_and_played_inline(nb):
    seq = np.random.default_rng(0).normal(scale=0.3, size=(4, 17, 3))  # (T, J, 3)
    with capture_output() as cap:
        path = nb.animation("99_walk", seq, size=1.0, dpi=30)
    assert path == nb.figures / "99_walk.gif"
    (out,) = cap.outputs
    assert base64.b64decode(out.data["image/gif"]) == path.read_bytes()


def test_bare_figures_render_as_png_in_ipython(nb, shell):
    """setup() registers a formatter: ``display(fig)`` is an image, not ``<Figure size ...>``."""
    data, _ = shell.display_formatter.format(_figure())
    assert data["image/png"][:8] == PNG_MAGIC  # raw bytes; the kernel base64-encodes them


def test_formatter_needs_ipython():
    InteractiveShell.clear_instance()
    assert notebook.register_figure_formatter() is False


def test_config_uses_the_notebooks_parameters(nb):
    cfg = nb.config("lift", "stage2", frames=9, model_extra={"sem": "fc"}, tds=2)
    assert (cfg.stage, cfg.preset, cfg.frames, cfg.tds) == ("lift", "p-stmo-s", 9, 2)
    assert (cfg.seed, cfg.device, cfg.dataset) == (3, "cpu", "demo")
    assert cfg.run_name == "99_test-stage2" and cfg.results_dir == str(nb.results / "runs")
    assert cfg.model.sem == "fc" and cfg.model.channel == 32  # the smoke profile's size is kept
    assert nb.config("lift", "lf", "liftformer").is_liftformer


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(profile="huge"), "profile='huge'"),
        (dict(dataset="coco"), "dataset='coco'"),
        (dict(seed=-1), "seed=-1"),
        (dict(seeds=0), "seeds=0"),
        (dict(device="foo"), "not a device name"),
        (dict(frames=0), "frames=0"),
        (dict(frames=10), "frames=10"),
    ],
)
def test_notebook_parameters_are_checked_where_they_enter(params, match):
    from pstmo.errors import ConfigError
    from pstmo.experiments.notebook import check_parameters

    with pytest.raises(ConfigError, match=match):
        check_parameters(**{"profile": "smoke", "dataset": "demo", "seed": 0, **params})


def test_seeds_of_a_cell(tmp_path):
    from pstmo.experiments import notebook

    nb = notebook.setup("x", out_dir=tmp_path, seed=4, display=lambda *a: None, verbose=False)
    assert nb.seeds == [4, 5, 6]  # smoke profile: 3 seeds per cell
    assert notebook.setup("x", out_dir=tmp_path, seeds=1, display=lambda *a: None, verbose=False).seeds == [0]
    cfg = nb.config("lift", "run", seed=5)
    assert cfg.seed == 5 and cfg.overwrite and cfg.run_name == "x-run"


def test_demo_profile_gives_two_notebooks_six_seeds(tmp_path):
    """Fig. 4 (01) and Table 4 (06) rows spread 2-2.5 mm over seeds: 6 seeds per cell in the demo
    profile, 3 elsewhere; ``seeds`` of setup still wins."""
    from pstmo.experiments import notebook

    def seeds(name, **kw):
        return notebook.setup(name, profile="demo", out_dir=tmp_path, display=lambda *a: None, verbose=False, **kw).seeds

    assert seeds("01_masked_pose_modeling") == seeds("06_sem_backbone") == [0, 1, 2, 3, 4, 5]
    assert seeds("05_components") == [0, 1, 2]
    assert seeds("01_masked_pose_modeling", seeds=2) == [0, 1]
    smoke = notebook.setup("01_masked_pose_modeling", out_dir=tmp_path, display=lambda *a: None, verbose=False)
    assert smoke.seeds == [0, 1, 2]
