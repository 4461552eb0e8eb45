# %% [markdown]
# # 12 · LiftFormer results (LiftFormer Tables 1–4, 7, 8 and a Fig. 2 counterpart)
#
# **The claims.** LiftFormer (Llopart) lifts a window of $n$ 2D poses to the 3D pose of its
# middle frame with the base Transformer encoder (hidden size 512, 8 heads, 6 blocks). On
# Human3.6M it reports, for $n = 27, 81, 243$:
#
# * **Table 1** (Protocol 1, MPJPE, CPN-detected 2D): 48.6 / 46.0 / **44.8 mm**: a longer window helps;
# * **Table 2** (MPJPE, ground-truth 2D): 37.7 / 34.5 / 32.5 mm, and with the attention weights
#   shared across blocks (WS) 37.7 / 35.3 / **31.9 mm**;
# * **Table 3** (Protocol 2, P-MPJPE after a similarity alignment): 35.0 mm (CPN), 23.1 mm (GT);
#   weight sharing costs a little under this protocol;
# * **Table 4** (Protocol 3, MPJVE, the error of the velocities): 1.6 / 1.4 / 1.3;
# * **Table 7**: weight sharing cuts 18.96 M to 13.7 M parameters; 4 blocks (9.5 M) cost
#   1.1 mm, 2 blocks of width 256 (2.4 M) 5.6 mm;
# * **Table 8**: the better the 2D detector, the better the 3D (44.8 mm with CPN, 31.9 mm with GT);
# * **Fig. 2**: for several actions, the RGB frame with its CPN 2D keypoints, LiftFormer's 3D
#   pose ($n = 243$) and the ground truth.
#
# Here every one of these tables is made from **LiftFormer models** trained in this notebook:
# one grid of models (2D inputs $\times$ receptive field $\times$ weight sharing, plus two
# smaller weight-shared models for Table 7), each a `Cell` of the one ablation runner
# (`pstmo.experiments.runner`), reported as mean ± std over seeds and scored on the whole test split with one
# protocol (`pstmo.evaluate`). Each comparison the paper makes is a claim of the registry
# (`pstmo.report.claims`), judged from our numbers with its resolution (`Notebook.judge`).
#
# **What is reduced, and why.** The paper trains each model for 80 epochs on Human3.6M at
# $n = 27, 81, 243$ with the base size (512, 8 heads, 6 blocks). Here each model is trained on the
# embedded demo data until its validation error stops improving (the `demo` profile: early
# stopping on frames held out from the training subjects, never selected on the test split), at
# the profile's small LiftFormer, `nb.seeds` seeds per cell, all runs through one runner (parallel
# worker processes, cached: a run asked for by notebooks 04, 09 and 12 alike is trained once).
# The receptive fields are the profile's ablation size $N$ (`nb.frames`, 9 in the smoke and demo
# profiles) and $3N$: our $n = 9, 27$ stand in for the paper's $n = 81, 243$ (both steps
# $\times 3$, aligned on the largest), so every cell is named by the paper's row it stands for
# (`gt-n243-ws` is our $n = 27$ weight-shared model); one run at $n = 243$ would cost more than
# the whole table may spend. The two small models of Table 7 keep the paper's ratios at our
# size: $\frac{4}{6}$ of the blocks, and $\frac{2}{6}$ of the blocks at half the width.
#
# **Detected 2D on the demo data.** The demo data have no images, hence no detector. The
# "detected" column is stood in for by `keypoints = "det"`: the ground-truth 2D with a
# documented, seeded noise model (per joint, temporally correlated AR(1) error plus jitter,
# larger at wrists and feet; short left/right limb swaps; rare 30–80 px outliers; about 5 px
# mean error; `pstmo/data/demo/README.md`, measured in notebook 02). It is labelled
# "demo det" everywhere, never CPN. With `dataset = "h36m"` the same cells use CPN.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "demo": to a plateau on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap) or "h36m"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0  # first seed of each cell
out_dir = None  # None: results/ and figures/ of the repository
seeds = 2  # seeds per cell (2 keeps the full demo run within its time budget; None: the profile's 3)
frames = None  # N: the receptive fields are N and 3N (None: the profile's ablation N, 9 in smoke and demo)
receptive_fields = (
    None  # n of the trained models, at most 3 (None: [N, 3N]; the paper profile: [27, 81, 243])
)
detected = "det"  # the detected 2D: the demo noise model on "demo", CPN on "h36m"
fig2_actions = 4  # test actions drawn in the Fig. 2 counterpart

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from pstmo import complexity
from pstmo.data import load_dataset
from pstmo.evaluate import evaluate, mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.models import get_config
from pstmo.report import findings, papers, tables, viz
from pstmo.skeleton import JOINT_NAMES

nb = notebook.setup("12_liftformer_results", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
N = frames or nb.frames

# %% [markdown]
# ## Params of Table 7, exact at the paper's sizes
#
# The parameter count follows from the architecture alone, so it is compared with the printed figure.

# %%
# NBVAL_CHECK_OUTPUT
t7 = papers.paper_table("liftformer_table7")
print("Table 7: receptive field, weight sharing -> Params(M) paper / ours")
for _, r in t7.iterrows():
    c = complexity.count(
        get_config(
            "liftformer",
            frames=int(r["N"]),
            dim=int(r["Hidden dimension"]),
            blocks=int(r["Blocks"]),
            weight_sharing=bool(r["Weight sharing"]),
        )
    )
    print(
        f"  {r['Receptive field']:<18} {'WS' if r['Weight sharing'] else '--'}   {r['Params(M)']:>6} / {c['params_paper_m']:<6}"
    )

# %% [markdown]
# ## The grid of LiftFormer models, trained to a plateau
#
# Every model is one `Cell` of the runner, named by the paper's row it stands for; the learning
# curves show each run reach its plateau and the epoch that was kept (the lowest error on the
# held-out validation frames, never on the test split). Table 7's rows without weight sharing
# are the very runs of Table 2 (the runner trains a configuration once).

# %%
RF = sorted(receptive_fields or ([N, 3 * N] if N else [27, 81, 243]))
if len(RF) > 3:
    raise ValueError(f"receptive_fields={RF}: at most 3, one per receptive field of the paper (27, 81, 243)")
PAPER_N = dict(zip(reversed(RF), (243, 81, 27)))  # ours -> the paper's n, aligned on the largest
n_max, p_max = RF[-1], PAPER_N[RF[-1]]
base = nb.config("lift", "base", "liftformer").model
small = dict(blocks=max(1, round(base.blocks * 4 / 6)))
tiny = dict(blocks=max(1, round(base.blocks * 2 / 6)), dim=base.dim // 2)


def lift(name, n, keypoints, ws=False, **model):
    """A LiftFormer cell: the profile's size with ``model`` changed, ``n`` frames of ``keypoints`` 2D."""
    return Cell(name, model="liftformer", frames=n, model_extra={"weight_sharing": ws, **model},
                overrides={"keypoints": keypoints})  # fmt: skip


CELLS = [
    cell
    for n in RF
    for cell in (
        lift(f"det-n{PAPER_N[n]}", n, detected),
        lift(f"gt-n{PAPER_N[n]}", n, "gt"),
        lift(f"gt-n{PAPER_N[n]}-ws", n, "gt", ws=True),
    )
] + [lift("gt-small-ws", n_max, "gt", ws=True, **small), lift("gt-tiny-ws", n_max, "gt", ws=True, **tiny)]
CELL = {c.name: c for c in CELLS}
runs = nb.run(CELLS, curves="12_learning_curves")
ds = load_dataset(dataset, data_dir=data_dir)
baseline = mean_pose_baseline(ds)
BASELINE = {"mpjpe": baseline.mpjpe, "p_mpjpe": baseline.p_mpjpe, "n_mpjpe": baseline.n_mpjpe}
# the one protocol of every run, at each run's own window size n
protocol = runs.loc[runs["frames"] == n_max, "protocol"].iloc[0].replace(f"N={n_max} ", "N=n ")


def params(name):
    """Parameters of a cell's model (trained size), exact."""
    c = CELL[name]
    return complexity.count(get_config("liftformer", **{**vars(base), "frames": c.frames, **c.model_extra}))


per_seed = runs[["cell", "seed", "frames"]].assign(
    **{"2D": [CELL[c].overrides["keypoints"] for c in runs["cell"]],
       "WS": [CELL[c].model_extra["weight_sharing"] for c in runs["cell"]],
       "Params": [params(c)["params_total"] for c in runs["cell"]]},
    MPJPE=runs["mpjpe"], **{"P-MPJPE": runs["p_mpjpe"], "N-MPJPE": runs["n_mpjpe"]}, MPJVE=runs["mpjve"],
    steps=runs["steps"],
)  # fmt: skip
nb.table(
    per_seed,
    "12_liftformer_runs",
    title="Every LiftFormer run of this notebook (one row per cell and seed; cells named by the paper's row)",
    note=f"'frames': our n; {nb.label}; protocol: {protocol}; steps: optimizer steps until early stopping",
)

# %% [markdown]
# ## What every table below is made of

# %%
KEYS = {"MPJPE": "mpjpe", "P-MPJPE": "p_mpjpe", "N-MPJPE": "n_mpjpe", "MPJVE": "mpjve"}


def stat(cell, metric="MPJPE"):
    return findings.cell_stats(runs, cell, KEYS.get(metric, metric))


def inputs(cell):
    kp = CELL[cell].overrides["keypoints"]
    return "GT" if kp == "gt" else ("CPN" if dataset == "h36m" else f"{dataset} det")


def label(cell):
    c = CELL[cell]
    size = "".join(f", {k} {v}" for k, v in c.model_extra.items() if k in ("blocks", "dim"))
    ws = " + WS" if c.model_extra["weight_sharing"] else ""
    return f"LiftFormer, ours (n={c.frames} {inputs(cell)}{ws}{size})"


ABOUT = (
    f"Ours: LiftFormer at the {profile} profile's size (hidden {base.dim}, {base.heads} heads, {base.blocks} blocks, "
    f"feed-forward {base.ff_dim}) unless the row says otherwise; our n = {', '.join(map(str, RF))} stand in for the "
    f"paper's n = {', '.join(str(PAPER_N[n]) for n in RF)}; {nb.label}; 2D inputs: "
    f"{tables.keypoints_label(dataset, 'gt')} (GT) or {tables.keypoints_label(dataset, detected)}; "
    f"{len(nb.seeds)} seeds per row ({', '.join(map(str, nb.seeds))}): per-action means over the seeds, "
    f"'std (seeds)' the standard deviation of Avg; protocol: {protocol}. "
    f"'mean training pose' predicts the average training pose for every frame (no model)."
)
display(Markdown(ABOUT))


def action_row(method, table, metric, spread=None):
    """A per-action row: ``table`` (metrics x actions), demo actions named '<action> (demo)'."""
    row = {"Method": method}
    for action, value in table.loc[metric].items():
        if action != "Avg":
            row[action.replace("Pur.", "Purch.") if dataset == "h36m" else f"{action} ({dataset})"] = value
    row["Avg"] = table.loc[metric, "Avg"]
    row["std (seeds)"] = spread
    return row


def mean_per_action(cell):
    """The per-action table of a cell, mean over its seeds (each run's ``per_action.csv``)."""
    dirs = runs.loc[runs["cell"] == cell, "run_dir"]
    tables = [pd.read_csv(Path(d) / "per_action.csv", index_col=0) for d in dirs]
    return sum(tables) / len(tables)


def per_action_table(name, metric, cells, what):
    rows = [action_row(label(c), mean_per_action(c), metric, stat(c, metric).std) for c in cells]
    rows.append(action_row("mean training pose (no model)", baseline.per_action, metric))
    table = papers.beside(pd.DataFrame(rows), papers.paper_table(name), label=nb.label)
    nb.table(table, name, decimals=1, title=papers.title(name, what), note=ABOUT)


verdicts = {}

# %% [markdown]
# ## LiftFormer Table 1: MPJPE with detected 2D

# %%
det_cells = [f"det-n{PAPER_N[n]}" for n in RF]
per_action_table(
    "liftformer_table1",
    "MPJPE",
    det_cells,
    f"Protocol 1, MPJPE (mm), detected 2D ({inputs(det_cells[-1])} here)",
)
verdicts["liftformer_table1"] = nb.judge("liftformer_table1", runs, baseline=BASELINE)

# %% [markdown]
# ## LiftFormer Table 2: MPJPE with ground-truth 2D, with and without weight sharing

# %%
gt_cells = [f"gt-n{PAPER_N[n]}{ws}" for ws in ("", "-ws") for n in RF]
per_action_table("liftformer_table2", "MPJPE", gt_cells, "Protocol 1, MPJPE (mm), ground-truth 2D")
verdicts["liftformer_table2"] = nb.judge("liftformer_table2", runs, baseline=BASELINE)

# %% [markdown]
# ## LiftFormer Table 3: P-MPJPE (Protocol 2)

# %%
per_action_table("liftformer_table3", "P-MPJPE", det_cells + gt_cells, "Protocol 2, P-MPJPE (mm)")
verdicts["liftformer_table3"] = nb.judge("liftformer_table3", runs, baseline=BASELINE)

# %% [markdown]
# ## LiftFormer Table 4: MPJVE (Protocol 3)
#
# Our MPJVE is in mm per frame (50 fps), the unit LiftFormer's values fit (the table says mm/s;
# 1.3 mm/s would be implausibly small at 50 fps). A model whose output barely moves has an
# MPJVE close to the speed of the true motion, which is what the mean-pose row shows; a claim
# whose rows are not clearly below that still pose's MPJVE is flagged, not judged.

# %%
per_action_table(
    "liftformer_table4", "MPJVE", det_cells + gt_cells[: len(RF)], "Protocol 3, MPJVE (mm per frame)"
)
verdicts["liftformer_table4"] = nb.judge("liftformer_table4", runs, baseline=BASELINE, static=baseline.mpjve)

# %% [markdown]
# ## LiftFormer Table 7: weight sharing and smaller models (ground-truth 2D)

# %%


def t7_cell(r):
    """Our cell of a Table 7 row (None: not trained at these receptive fields)."""
    if (r["Blocks"], r["Hidden dimension"]) == (6, 512):
        name = f"gt-n{r['N']}{'-ws' if r['Weight sharing'] else ''}"
    else:
        name = "gt-small-ws" if r["Blocks"] == 4 else "gt-tiny-ws"
    return name if name in CELL and (r["N"] == p_max or name.startswith(f"gt-n{r['N']}")) else None


rows = []
for _, r in t7.iterrows():
    cell = t7_cell(r)
    c = CELL.get(cell)
    rows.append(
        {
            "Receptive field (paper)": r["Receptive field"],
            "Weight sharing": r["Weight sharing"],
            "MPJPE (paper)": r["MPJPE"],
            "P-MPJPE (paper)": r["P-MPJPE"],
            "N-MPJPE (paper)": r["N-MPJPE"],
            "Params(M) (paper)": r["Params(M)"],
            "ours: cell, n / blocks / hidden": (
                f"{cell}, {c.frames} / {c.model_extra.get('blocks', base.blocks)} / {c.model_extra.get('dim', base.dim)}"
                if cell
                else "not trained"
            ),
            **{
                f"{m} (ours)": findings.format_cell(stat(cell, m)) if cell else "-"
                for m in ("MPJPE", "P-MPJPE", "N-MPJPE")
            },
        }  # fmt: skip
    )
nb.table(
    pd.DataFrame(rows),
    "liftformer_table7",
    title=papers.title("liftformer_table7", "weight sharing of the attention layers, ground-truth 2D (mm)"),
    note=ABOUT + " Ours: mean ± std over the seeds.",
)
verdicts["liftformer_table7"] = nb.judge("liftformer_table7", runs, baseline=BASELINE)

# %% [markdown]
# ## LiftFormer Table 8: MPJPE by 2D input
#
# The paper's GT cell is its weight-shared model; ours, and the claim judged below, take the
# model without weight sharing (the paper's Table 2 row), so that only the 2D input differs
# between our two cells.

# %%
kp_det = f"{inputs(f'det-n{p_max}')} (ours)" if dataset != "h36m" else "CPN FT"
ours8 = pd.DataFrame(
    [{"Method": label(f"gt-n{p_max}").replace(" GT", ""), kp_det: stat(f"det-n{p_max}").mean, "GT": stat(f"gt-n{p_max}").mean}]
)  # fmt: skip
nb.table(
    papers.beside(ours8, papers.paper_table("liftformer_table8"), label=nb.label),
    "liftformer_table8",
    decimals=1,
    title=papers.title("liftformer_table8", "Protocol 1, MPJPE (mm) by 2D detector"),
    note=ABOUT,
)
verdicts["liftformer_table8"] = nb.judge("liftformer_table8", runs, baseline=BASELINE)

# %% [markdown]
# ## LiftFormer Fig. 2 counterpart: detected 2D input, LiftFormer's 3D, ground truth
#
# The paper's Fig. 2 shows, for several Human3.6M actions, the RGB frame with its CPN 2D
# keypoints, the 3D pose of LiftFormer ($n = 243$) and the ground truth. The closest thing our
# models can show: for each test action (first camera, middle frame), the detected 2D input
# (on the demo data the noise model, drawn without an image: the demo is motion capture, it
# has no video), the 3D pose of our LiftFormer trained on those inputs (largest $n$, first
# seed, loaded from its run's `best.pt`) and the ground truth. Joints of the prediction are
# coloured by their error.

# %%
fig2_cell = f"det-n{p_max}"
fig2_run = runs[(runs["cell"] == fig2_cell) & (runs["seed"] == nb.seeds[0])].iloc[0]
fig2_checkpoint = Path(fig2_run["run_dir"]) / "best.pt"
ds_det = load_dataset(dataset, data_dir=data_dir, keypoints=detected)
res = evaluate(fig2_checkpoint, dataset=ds_det, device=device)
assert abs(res.mpjpe - fig2_run["mpjpe"]) < 1e-3  # one protocol: the run's own number
shown = list(
    {p.action: p for p in reversed(res.predictions) if p.camera == res.predictions[0].camera}.values()
)
shown = sorted(shown, key=lambda p: p.action)[:fig2_actions]
fig = viz.new_figure(9.6, 3.4 * len(shown))
for sub, p in zip(fig.subfigures(len(shown), 1, squeeze=False)[:, 0], shown):
    t = len(p.pred) // 2
    viz.plot_comparison(p.pose_2d[t], p.pred[t], p.target[t], fig=sub)
    sub.suptitle(
        f"{p.action} ({p.subject}, camera {p.camera}, frame {t}): {label(fig2_cell)}, seed {nb.seeds[0]}"
    )
caption = (
    f"LiftFormer Fig. 2 counterpart, not the paper's figure: {nb.label}; 2D input: "
    f"{tables.keypoints_label(dataset, detected)}; test split, flip averaging"
)
fig.text(0.5, 0.0, caption, ha="center", va="top", fontsize=8, wrap=True)
nb.figure(fig, "12_liftformer_fig2")

# %% [markdown]
# ## What our numbers show

# %%
everything = pd.concat(list(verdicts.values()), ignore_index=True)
cell_stats = [(c, stat(c)) for c in CELL]
best = min(CELL, key=lambda c: stat(c).mean)
gain = baseline.mpjpe - stat(best).mean
mpjve = [stat(c, "MPJVE").mean for c in CELL]
L_SHOULDER, R_SHOULDER = JOINT_NAMES.index("LShoulder"), JOINT_NAMES.index("RShoulder")


def shoulder_width(poses):
    return np.linalg.norm(poses[:, L_SHOULDER] - poses[:, R_SHOULDER], axis=-1).mean()


def width_ratio(result):
    """Shoulder width of the predictions over the true one, all test frames."""
    return np.mean([shoulder_width(p.pred) for p in result.predictions]) / np.mean(
        [shoulder_width(p.target) for p in result.predictions]
    )


# a diagnostic, not a reported number: the Fig. 2 model without flip averaging
unflipped = evaluate(fig2_checkpoint, dataset=ds_det, flip=False, device=device)
width, width_unflipped, width_mean_pose = width_ratio(res), width_ratio(unflipped), width_ratio(baseline)
lines = [
    f"- Best row here: {label(best)} (cell {best}), MPJPE {findings.format_cell(stat(best))} mm. Predicting the "
    f"mean training pose scores {baseline.mpjpe:.1f} mm, so our best model removes {gain:.1f} mm "
    f"({100 * gain / baseline.mpjpe:.0f} %) of that error; the paper's best is 31.9 mm on Human3.6M.",
    "- " + findings.sentence(findings.spread_sentence(cell_stats, baseline.mpjpe)),
    f"- MPJVE of our models: {min(mpjve):.2f}-{max(mpjve):.2f} mm/frame, against {baseline.mpjve:.2f} for a pose "
    f"that does not move at all"
    + (": our predictions barely move." if min(mpjve) > 0.8 * baseline.mpjve else "."),
    f"- In the Fig. 2 counterpart the predicted shoulders are {100 * width:.0f} % as wide as the true ones, "
    f"{100 * width_unflipped:.0f} % without flip averaging (a diagnostic; the protocol flips)"
    + (
        ": averaging a prediction with that of the mirrored input, left and right swapped, pulls the two sides "
        "together when the model has not learned which side is which."
        if width_unflipped - width > 0.2
        else "."
    )
    + (
        f" The mean training pose, towards which a barely trained model regresses, is {100 * width_mean_pose:.0f} % "
        "as wide: the cameras see the subjects from all sides, so in camera coordinates left and right average out."
        if width_mean_pose < 0.5
        else ""
    ),
    "- Over LiftFormer Tables 1-4, 7 and 8 (the verdict tables above), " + findings.tally(everything) + ".",
]
display(Markdown("\n".join(lines)))
nb.summary(
    {f"mpjpe_{c}": stat(c).mean for c in CELL} | {"mean_pose_mpjpe": baseline.mpjpe},
    receptive_fields=RF,
    seeds=nb.seeds,
)

# %% [markdown]
# ## Like with like
#
# `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared Human3.6M>` trains the
# paper's sizes ($d = 512$, 6 blocks, $n = 27, 81, 243$, 80 epochs, CPN inputs for Tables 1 and 3)
# on a GPU; the tables above are then Human3.6M numbers, set beside the paper's per action.
