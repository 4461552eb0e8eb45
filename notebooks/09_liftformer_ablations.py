# %% [markdown]
# # 09 · LiftFormer ablations (LiftFormer Table 6)
#
# **The claims.** LiftFormer is the base Transformer encoder of Vaswani et al. (hidden size
# 512, 8 heads, 6 blocks, feed-forward 2048) over the $n$ frame tokens, with sinusoidal
# *temporal* encodings, lifting the middle token to 3D. Table 6 (CPN inputs, $n = 27$, no
# weight sharing): a larger hidden size helps up to 512 (50.1 → 49.3 → 48.6 mm; 768 gives the
# same 48.6 mm for 75 % more parameters); the number of heads does not change the parameter
# count and barely the error (48.8 / 48.6 / 48.8 mm for 4 / 8 / 16 heads); more blocks help a
# little (48.8 / 48.6 / 48.6 mm for 4 / 6 / 8 blocks). (Table 7, weight sharing, is made in
# notebook 12 with the other LiftFormer models.)
#
# Per block the parameters are $4(d^2 + d)$ for attention, $2\,d\,d_{ff} + d_{ff} + d$ for the
# feed-forward network and $4d$ for two LayerNorms, plus the input and output projections —
# so the Params column can be checked exactly, independent of training.
#
# **What is reduced, and why.** The paper trains each row for 80 epochs on Human3.6M at $n = 27$
# with its base model (512, 8 heads, 6 blocks, feed-forward 2048). Here each row is trained on the
# embedded demo data until its validation error stops improving (the `demo` profile: early
# stopping on frames held out from the training subjects, never selected on the test split), at
# the profile's ablation size $n$ (`nb.frames`, 9 in the smoke and demo profiles, for the paper's
# 27) and the profile's small LiftFormer, with the paper's settings scaled by the same ratios (see
# below), `nb.seeds` seeds per row, all runs through one runner (`pstmo.experiments.runner`: parallel worker
# processes, cached). Each row is a `Cell` named by the paper's configuration (`d512-h8-b6` is our
# base model), so the claims of the registry (`pstmo.report.claims`) find it; the base row is the very
# run of notebook 12's detected-2D row at the same $n$ (the runner trains it once).

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "demo": to a plateau on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap) or "h36m"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0  # first seed of each cell
out_dir = None  # None: results/ and figures/ of the repository
seeds = 2  # seeds per cell (2 keeps the full demo run within its time budget; None: the profile's 3)
frames = None  # receptive field n of the trained models (None: the profile's ablation N, 9 in smoke and demo; paper 27)
detected = "det"  # the paper's CPN inputs: the demo noise model on "demo", CPN on "h36m"

# %%
import pandas as pd
from IPython.display import Markdown, display

from pstmo import complexity
from pstmo.data import load_dataset
from pstmo.evaluate import mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.models import get_config
from pstmo.report import findings, papers, tables

nb = notebook.setup("09_liftformer_ablations", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
N = frames or nb.frames or 27  # the paper's Table 6: n = 27

# %% [markdown]
# ## Params column of Table 6, exact at the paper's sizes

# %%
# NBVAL_CHECK_OUTPUT
t6 = papers.paper_table("liftformer_table6")
print("Table 6: hidden, heads, blocks -> Params(M) paper / ours")
for _, r in t6.iterrows():
    c = complexity.count(
        get_config(
            "liftformer",
            frames=27,
            dim=int(r["Hidden dimension"]),
            heads=int(r["Multi head"]),
            blocks=int(r["Blocks"]),
        )
    )
    print(
        f"  {int(r['Hidden dimension']):>4} {int(r['Multi head']):>3} {int(r['Blocks']):>2}"
        f"   {r['Params(M)']:>6} / {c['params_paper_m']:<6} ({c['params_total']:,})"
    )

# %% [markdown]
# ## Accuracy columns: the same grid at our size, each row trained to a plateau
#
# The paper varies one setting of its base model (512, 8, 6) at a time; we vary the same
# setting of the profile's model by the same ratios (hidden $\times \frac{1}{4}, \frac{1}{2},
# 1, \frac{3}{2}$; heads $\times \frac{1}{2}, 1, 2$; blocks $\times \frac{2}{3}, 1, \frac{4}{3}$,
# rounded), keeping the feed-forward width fixed as the paper does (2048 there). The learning
# curves show each run reach its plateau and the epoch that was kept (the lowest error on the
# held-out validation frames).

# %%
base = nb.config("lift", "base", "liftformer", frames=N).model
PAPER_BASE = (512, 8, 6)


def ours_of(d, h, b):
    """Our (hidden, heads, blocks) for the paper's, by the ratio to the paper's base model."""
    return (
        max(base.heads, round(base.dim * d / PAPER_BASE[0])),
        max(1, round(base.heads * h / PAPER_BASE[1])),
        max(1, round(base.blocks * b / PAPER_BASE[2])),
    )


PAPER_KEYS = [
    tuple(int(v) for v in r[["Hidden dimension", "Multi head", "Blocks"]]) for _, r in t6.iterrows()
]
GRID = {f"d{d}-h{h}-b{b}": ours_of(d, h, b) for d, h, b in PAPER_KEYS}  # the paper's row -> ours
CELLS = [
    Cell(name, model="liftformer", frames=N, model_extra=dict(dim=d, heads=h, blocks=b, weight_sharing=False),
         overrides={"keypoints": detected})
    for name, (d, h, b) in GRID.items()
]  # fmt: skip
runs = nb.run(CELLS, curves="09_learning_curves")
ds = load_dataset(dataset, data_dir=data_dir)
baseline = mean_pose_baseline(ds)
BASELINE = {"mpjpe": baseline.mpjpe, "p_mpjpe": baseline.p_mpjpe, "n_mpjpe": baseline.n_mpjpe}
protocol = runs["protocol"].iloc[0]
KEYS = {"MPJPE": "mpjpe", "P-MPJPE": "p_mpjpe", "N-MPJPE": "n_mpjpe", "MPJVE": "mpjve"}


def stat(cell, metric="MPJPE"):
    return findings.cell_stats(runs, cell, KEYS[metric])


def params(cell):
    d, h, b = GRID[cell]
    return complexity.count(get_config("liftformer", **{**vars(base), "dim": d, "heads": h, "blocks": b}))


nb.table(
    runs[["cell", "seed", "frames"]].assign(
        **{"ours: hidden / heads / blocks": [" / ".join(map(str, GRID[c])) for c in runs["cell"]],
           "Params": [params(c)["params_total"] for c in runs["cell"]]},
        **{m: runs[k] for m, k in KEYS.items()}, steps=runs["steps"],
    ),
    "09_liftformer_runs",
    title="Every LiftFormer run of this notebook (one row per cell and seed; cells named by the paper's row)",
    note=f"{nb.label}; 2D: {tables.keypoints_label(dataset, detected)}; protocol: {protocol}; steps: optimizer steps "
    "until early stopping",
)  # fmt: skip

# %% [markdown]
# ## LiftFormer Table 6 beside ours

# %%
ABOUT = (
    f"Ours: LiftFormer, n={N} (the paper: 27), feed-forward {base.ff_dim}, no weight sharing, {nb.label}, 2D "
    f"inputs: {tables.keypoints_label(dataset, detected)}; mean ± std over {len(nb.seeds)} seeds "
    f"({', '.join(map(str, nb.seeds))}); protocol: {protocol}. Params(M) at paper size: our count of the paper's "
    f"configuration; Params (ours): the model we trained."
)
rows = []
for (_, r), key in zip(t6.iterrows(), PAPER_KEYS):  # the paper repeats its base row in each group
    name = "d{}-h{}-b{}".format(*key)
    rows.append(
        {
            "Hidden dimension (paper)": key[0],
            "Multi head (paper)": key[1],
            "Blocks (paper)": key[2],
            "ours: hidden / heads / blocks": " / ".join(map(str, GRID[name])),
            **{
                f"{m} ({src})": (
                    r[m] if src == "paper" else findings.format_cell(stat(name, m), 2 if m == "MPJVE" else 1)
                )
                for m in KEYS
                for src in ("paper", "ours")
            },
            "Params(M) (paper)": r["Params(M)"],
            "Params(M) at paper size (ours)": complexity.count(
                get_config("liftformer", frames=27, dim=key[0], heads=key[1], blocks=key[2])
            )["params_paper_m"],
            "Params (ours)": params(name)["params_total"],
        }  # fmt: skip
    )
nb.table(
    pd.DataFrame(rows),
    "liftformer_table6",
    title=papers.title(
        "liftformer_table6", "hidden size, heads and blocks (MPJPE, P-MPJPE, N-MPJPE in mm; MPJVE mm/frame)"
    ),
    note=ABOUT,
)
nb.summary(
    {f"mpjpe_{c}": stat(c).mean for c in GRID} | {"mean_pose_mpjpe": baseline.mpjpe}, frames=N, seeds=nb.seeds
)

# %% [markdown]
# ## What our numbers show beside the paper's
#
# Each claim of Table 6 changes one setting from row A to row B; it is judged from our two rows,
# with the smallest difference our seeds can resolve.

# %%
verdicts = nb.judge("liftformer_table6", runs, baseline=BASELINE, static=baseline.mpjve)
largest = max(GRID, key=lambda c: params(c)["params_total"])
lines = [
    f"- Heads change no parameter count: {params('d512-h4-b6')['params_total']:,} = "
    f"{params('d512-h16-b6')['params_total']:,} parameters here too.",
    "- " + findings.sentence(findings.best([(c, stat(c)) for c in GRID])),
    f"- The largest model here ({largest}: ours {' / '.join(map(str, GRID[largest]))}, "
    f"{params(largest)['params_total']:,} parameters) scores {findings.format_cell(stat(largest))} mm.",
    "- " + findings.sentence(findings.spread_sentence([(c, stat(c)) for c in GRID], baseline.mpjpe)),
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Like with like
#
# With `profile = "paper"` and `dataset = "h36m"` the grid is the paper's own (hidden 128–768,
# 4–16 heads, 4–8 blocks, CPN inputs, 80 epochs each, $n = 27$): a GPU job of several days.
