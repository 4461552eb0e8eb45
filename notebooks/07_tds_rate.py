# %% [markdown]
# # 07 · Temporal downsampling (P-STMO Table 5)
#
# **The claim.** Neighbouring frames at 50 fps are nearly identical. *Temporal downsampling*
# (TDS) feeds every $s$-th frame,
#
# $$X^{TDS} = \{x_{n\cdot s}\}_{n=-(N-1)/2}^{(N-1)/2},$$
#
# so $N$ tokens cover a receptive field $RF = N\cdot s$ frames at the same parameters and FLOPs.
# It helps most for short windows: $N = 27$ improves from 48.2 to 46.8 mm with $s = 3$ and to
# 46.1 mm with $s = 9$, $N = 81$ from 45.6 to 44.1 mm with $s = 3$, while $N = 243$ gains only
# 0.2 mm with $s = 2$ — far-away frames say little about the current pose. At a fixed receptive
# field, more frames are better but cost more: $N = 81, s = 1$ (45.6 mm, 493 M FLOPs) against
# $N = 27, s = 3$ (46.8 mm, 163 M FLOPs).
#
# Below, the Params and FLOPs of each $N$ are computed exactly at the paper's size (they do not
# depend on $s$), and the MPJPE of each $(N, s)$ cell comes from runs trained until their
# validation error stops improving, `nb.seeds` seeds each, with verdicts against the paper's claims.
#
# **What is reduced, and why.** The paper trains P-STMO-S (with MPM pre-training) for 80 epochs
# per cell at $N \in \{27, 81, 243\}$. Here the small STMO is trained from scratch on the embedded
# demo data (the `demo` profile: early stopping on frames held out from the training subjects)
# at $N \in \{9, 27\}$ and $s \in \{1, 3\}$, `nb.seeds` seeds per cell, all runs through one runner
# (`pstmo.experiments.runner`: parallel worker processes, cached). Our $N = 9$ and $27$ stand in for the
# paper's $27$ and $81$ (each a factor 3 smaller) and the cells are named after the paper's rows
# they stand for (`N27-s3` is our $N = 9, s = 3$): $N = 9, s = 3$ and $N = 27, s = 1$ share a
# receptive field of 27 frames as the paper's $N = 27, s = 3$ and $N = 81, s = 1$ share one of 81.
# The cell `N27-s1` is the same run as notebook 05's STMO row and notebook 01's `scratch`: the
# runner trains it once. The claims judged below are data (`pstmo.report.claims`), each verdict with its
# resolution.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
seeds = None  # seeds per cell (None: the profile's; smoke 3)
frames_list = (
    None  # our N values (None: the profile's ablation N and 3 x it, smoke 9 and 27; paper 27, 81, 243)
)
rates = [1, 3]  # s values (paper: 1, 2, 3, 9)
paper_frames = (
    None  # the paper's N each of frames_list stands for (None: 3 x ours at demo scale, ours in paper)
)

# %%
import pandas as pd
from IPython.display import Markdown, display

from pstmo.data import load_dataset
from pstmo.evaluate import mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.report import findings, papers, viz

nb = notebook.setup("07_tds_rate", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
if frames_list is None:
    frames_list = [nb.frames, 3 * nb.frames] if nb.frames else [27, 81, 243]
if paper_frames is None:
    paper_frames = [3 * n for n in frames_list] if nb.frames else list(frames_list)
stands_for = dict(zip(frames_list, paper_frames, strict=True))  # our N -> the paper's N

# %% [markdown]
# ## Params and FLOPs depend on $N$ only, not on $s$ (exact, paper sizes)

# %%
# NBVAL_CHECK_OUTPUT
from pstmo import complexity
from pstmo.models import get_config

reported = papers.paper_table("pstmo_table5")
counts = {n: complexity.count(get_config("p-stmo-s", frames=n)) for n in sorted(set(reported["N"]))}
print(f"{'N':>4}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}")
for n, c in counts.items():
    r = reported[reported["N"] == n].iloc[0]
    print(
        f"{n:>4}{r['Params(M)']:>16}{c['params_paper_m']:>8}{int(r['FLOPs(M)']):>16}{c['flops_paper_m']:>8}"
    )

# %% [markdown]
# ## MPJPE over $(N, s)$, trained to a plateau, mean ± std over seeds
#
# Every $(N, s)$ is one `Cell` of the runner, named after the paper's row it stands for; the
# learning curves show each run reach its plateau and the epoch that was kept (the lowest error
# on the held-out validation frames, never on the test split).

# %%
CELLS = [
    Cell(f"N{stands_for[n]}-s{s}", frames=n, overrides={"tds": s} if s != 1 else {})
    for n in frames_list
    for s in rates
]
runs = nb.run(CELLS, curves="07_learning_curves")
runs["N (ours)"], runs["s"] = runs["frames"], runs["tds"]
stats = {c.name: findings.cell_stats(runs, c.name, "mpjpe") for c in CELLS}
protocol = runs["protocol"].iloc[0]

# %%
tds_of = {c.name: c.overrides.get("tds", 1) for c in CELLS}
ours = pd.DataFrame([
    {"N": stands_for[c.frames], "s": tds_of[c.name], "MPJPE": findings.format_cell(stats[c.name])} for c in CELLS
])  # fmt: skip
table = papers.beside(ours, reported, label=nb.label, on=["N", "s"])
ours_n = {(stands_for[c.frames], tds_of[c.name]): c.frames for c in CELLS}
table.insert(table.columns.get_loc(f"MPJPE ({nb.label})"), "N, RF (ours)", [
    f"{ours_n[(n, s)]}, {ours_n[(n, s)] * s}" if (n, s) in ours_n else "-" for n, s in zip(table["N"], table["s"])
])  # fmt: skip
table = table.rename(
    columns={"Params(M)": "Params(M) (paper)", "FLOPs(M)": "FLOPs(M) (paper)", "RF": "RF (paper)"}
)
table["FLOPs(M) (paper)"] = table["FLOPs(M) (paper)"].astype("Int64")
table["Params(M) (ours, exact)"] = [
    round(counts[n]["params_paper"] / 1e6, 2) if n in counts else float("nan") for n in table["N"]
]
nb.table(
    table, "pstmo_table5", seeds=nb.seeds, frames=frames_list, paper_frames=paper_frames, rates=rates,
    title="P-STMO Table 5: temporal downsampling rate s (the paper's rows, each beside the cell that stands for it)",
    note=f"Params ours: exact counts at the paper's size (P-STMO-S, the paper's counting convention). MPJPE ours: "
    f"STMO at {profile}-profile size trained from scratch, our N = {', '.join(f'{a} for {b}' for a, b in stands_for.items())} "
    f"of the paper, {dataset} data, {profile} profile, seeds {nb.seeds}; protocol: {protocol}, each cell with its "
    "own N and s",
)  # fmt: skip
nb.summary(
    {f"mpjpe_{k}": st.mean for k, st in stats.items()} | {f"std_{k}": st.std for k, st in stats.items()}
)

# %%
fig = viz.new_figure(4.0 * len(frames_list), 3.3)
axes = [fig.add_subplot(1, len(frames_list), i + 1) for i in range(len(frames_list))]
for ax, n in zip(axes, frames_list):
    viz.plot_seed_points(runs[runs["N (ours)"] == n], x="s", y="mpjpe", ax=ax, xlabel="TDS rate $s$",
                         title=f"N = {n} (for the paper's {stands_for[n]})")  # fmt: skip
lo = min(ax.get_ylim()[0] for ax in axes)
hi = max(ax.get_ylim()[1] for ax in axes)
for i, ax in enumerate(axes):
    ax.set_ylim(lo, hi)  # one scale for every N
    if i:
        ax.set_ylabel("")
fig.tight_layout()
nb.figure(fig, "07_tds_seeds")

# %%
ds = load_dataset(dataset, data_dir=data_dir)
baseline = mean_pose_baseline(ds).mpjpe
verdicts = nb.judge("pstmo_table5", runs, baseline=baseline)
gains = {
    n: stats[f"N{stands_for[n]}-s{max(rates)}"].mean - stats[f"N{stands_for[n]}-s1"].mean
    for n in frames_list
    if 1 in rates and max(rates) > 1
}
paper_mpjpe = reported.set_index(["N", "s"])["MPJPE"]  # the paper's gain: its best s against s = 1, per N
paper_gain = {n: paper_mpjpe[(n, 1)] - g.min() for n, g in paper_mpjpe.groupby(level="N")}
text = []
if len(gains) >= 2:
    g = list(gains.items())
    text.append(
        f"Our change from s=1 to s={max(rates)} is {', '.join(f'{d:+.1f} mm at N={n}' for n, d in g)}; the paper's "
        f"TDS gain shrinks as N grows (up to {', '.join(f'{v:.1f} mm at N = {n}' for n, v in paper_gain.items())}). "
        + ("Ours shrinks too" if abs(g[-1][1]) < abs(g[0][1]) and g[0][1] < 0 else "Ours does not show that pattern")
        + " (each difference carries the seed noise of the verdicts above)."
    )  # fmt: skip
text.append(findings.sentence(findings.spread_sentence(list(stats.items()), baseline)))
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## Like with like
#
# The paper's grid (N = 27, 81, 243; s = 1, 2, 3, 9) on Human3.6M is this notebook with other
# parameters: `pstmo sweep notebooks/07_tds_rate.ipynb --profile paper --set dataset=h36m
# --set data_dir=<prepared Human3.6M> --set "rates=[1, 2, 3, 9]"` (the paper profile's `frames_list`
# is already 27, 81, 243).
