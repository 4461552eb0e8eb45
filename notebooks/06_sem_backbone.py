# %% [markdown]
# # 06 · The backbone of SEM (P-STMO Table 4)
#
# **The claim.** A small MLP block is the best spatial encoder: with SEM + TEM, an MLP SEM
# ($L = 1$ sub-block) gets 46.0 mm, against 49.6 mm for a single *fc* layer (Li et al.) and
# 48.8 mm for a spatial Transformer (PoseFormer, which only fits $N = 81$ frames in the same
# budget). $L = 2$ is marginally better (45.9 mm) but costs 256 M more FLOPs, so P-STMO uses
# $L = 1$. The paper's reading: *fc* is too simple to represent the spatial structure, the
# Transformer too complex to optimise.
#
# An MLP sub-block is $h \leftarrow h + W_2\,\sigma(W_1\,\mathrm{LN}(h))$ applied to each frame's
# joint vector; the fc backbone is a single $W$; the Transformer attends between the 17 joints.
#
# Below, the Params and FLOPs of each row are computed exactly at the paper's sizes and compared
# with the printed figures, and the MPJPE of each row comes from runs trained until their
# validation error stops improving (several seeds a row), with verdicts against the paper's claims.
#
# **What is reduced, and why.** The paper trains each row for 80 epochs at $N = 243$ (the
# Transformer at 81) on Human3.6M. Here each row is trained on the embedded demo data until its
# validation error stops improving (the `demo` profile: early stopping on frames held out from the
# training subjects), at the profile's ablation size (`nb.frames`, $N = 9$; the Transformer, as in
# the paper, at a third of that, $N = 3$, and wider by the paper's ratio 544 / 256: 17 joints of width
# 4 = 68; it also trains twice as many steps, ending at the same learning rate, since on the profile's
# schedule every seed was still improving fast at the step cap; a verdict in its favour had that
# advantage). Each row has the seeds its claims were estimated to need for a resolution of 2.5 mm (`row_seeds`:
# the notebook's `nb.seeds`, twice as many for the Transformer, half for MLP $L = 2, 3$), all runs
# through one runner (`pstmo.experiments.runner`: parallel worker processes, cached). The row MLP $L = 1$ is the same run as
# notebook 05's SEM + TEM row: the runner trains it once. The claims judged below are data
# (`pstmo.report.claims`), each verdict with its resolution.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
seeds = None  # seeds per row (None: the profile's; smoke 3)
backbones = ["fc", "transformer", "mlp-l1", "mlp-l2", "mlp-l3"]  # rows of Table 4 to train
frames = None  # N of the training runs (None: the profile's ablation N, smoke/demo 9; the paper: 243)

# %%
from IPython.display import Markdown, display

from pstmo.config import stretched_schedule
from pstmo.data import load_dataset
from pstmo.evaluate import mean_pose_baseline
from pstmo.experiments import notebook
from pstmo.experiments.runner import Cell
from pstmo.report import findings, papers

nb = notebook.setup("06_sem_backbone", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
N = frames or nb.frames

# %% [markdown]
# ## Params and FLOPs at the paper's sizes, exact

# %%
# NBVAL_CHECK_OUTPUT
from pstmo import complexity
from pstmo.models import ABLATIONS, get_config

ROWS = {
    "fc": "table4/fc",
    "transformer": "table4/transformer",
    "mlp-l1": "table4/mlp-l1",
    "mlp-l2": "table4/mlp-l2",
    "mlp-l3": "table4/mlp-l3",
}
counts = {k: complexity.count(get_config("p-stmo-s", **ABLATIONS[v])) for k, v in ROWS.items()}
reported = papers.paper_table("pstmo_table4")
print(f"{'row':<13}{'N':>5}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}")
for (k, c), (_, r) in zip(counts.items(), reported.iterrows()):
    print(
        f"{k:<13}{r['N']:>5}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}"
    )

# %% [markdown]
# ## MPJPE of each backbone (SEM + TEM, as in Table 4), trained to a plateau, mean ± std over seeds
#
# Every backbone is one `Cell` of the runner; the learning curves show each run reach its plateau
# and the epoch that was kept (the lowest error on the held-out validation frames, never on the
# test split).


# %%
def cell(b):
    """The runner's cell of one backbone: SEM + TEM at the profile's size, the Transformer at a third of N."""
    v = ABLATIONS[ROWS[b]]
    extra = {k: v[k] for k in ("components", "sem", "sem_blocks") if k in v}
    if b != "transformer":
        return Cell(b, frames=N, model_extra=extra, seeds=row_seeds[b])
    # PoseFormer's spatial Transformer: 17 x a per-joint width, a third of the frames. Width 17 x 4 = 68:
    # the paper's ratio of this row's width to the others' (544 / 256) at our width 32. (At 17 x 2 every
    # joint leaves the final LayerNorm as (+1, -1) or (-1, +1), one bit, and the model stays at the average pose.)
    small = dict(channel=68, hidden=136, heads=2)
    extra.update(small if nb.frames else dict(channel=v["channel"], hidden=v["hidden"]))
    # Slow to optimise (the paper's own reading): on the profile's schedule every seed's validation error
    # still fell ~10 mm per 1,000 steps at the step cap, and the seeds' test errors spread 7 mm. It gets
    # the same schedule stretched over twice the steps, ending at the same learning rate (none for `paper`).
    return Cell(b, frames=max(1, N // 3) | 1 if N else v["frames"], model_extra=extra,
                overrides=stretched_schedule(profile), seeds=row_seeds["transformer"])  # fmt: skip


# Seeds per row, as many as the claims were estimated to need for a resolution <= 2.5 mm (from the spreads of the run of
# 2026-12-08, 6 seeds a row): the Transformer's seeds spread 3.9 mm, the others' 0.7-0.9 mm, so it gets twice
# the notebook's seeds; MLP L = 2 and L = 3, compared only with L = 1, need half of them.
first, n_seeds = nb.seeds[0], len(nb.seeds)
row_seeds = {b: nb.seeds for b in ROWS} | {
    "transformer": list(range(first, first + 2 * n_seeds)),
    "mlp-l2": nb.seeds[: max(2, n_seeds // 2)],
    "mlp-l3": nb.seeds[: max(2, n_seeds // 2)],
}
CELLS = [cell(b) for b in backbones]
runs = nb.run(CELLS, curves="06_learning_curves")
stats = {c.name: findings.cell_stats(runs, c.name, "mpjpe") for c in CELLS}
frames_of = {c.name: int(runs.loc[runs["cell"] == c.name, "frames"].iloc[0]) for c in CELLS}
protocol = runs.loc[runs["cell"] != "transformer", "protocol"].iloc[0] if set(stats) - {"transformer"} else ""

# %%
keys = list(ROWS)
names = {
    "fc": "fc",
    "transformer": "Transformer",
    "mlp-l1": "MLP L=1",
    "mlp-l2": "MLP L=2",
    "mlp-l3": "MLP L=3",
}
table = reported[["Backbone", "N"]].rename(columns={"N": "N (paper)"})
table["N (ours)"] = [frames_of.get(k) for k in keys]
table["N (ours)"] = table["N (ours)"].astype("Int64")
unmatched = complexity.count_columns(table, reported, counts, keys, names)
table["MPJPE (paper)"] = reported["MPJPE"]
table[f"MPJPE ({nb.label})"] = [findings.format_cell(stats[k]) if k in stats else "-" for k in keys]
nb.table(
    table, "pstmo_table4", seeds=row_seeds, frames=frames_of, unmatched_counts=unmatched,
    title="P-STMO Table 4: designs of SEM (Params/FLOPs at the paper's sizes, MPJPE trained to a plateau)",
    note=f"Params/FLOPs: exact counts of our models at the paper's sizes (P-STMO-S, SEM + TEM, the paper's counting "
    f"convention, pstmo.complexity); rows whose printed figures our counts do not reproduce: "
    f"{', '.join(unmatched) or 'none'} (see docs/FIDELITY.md, 'Rows we do not match'). MPJPE ours: SEM + TEM at "
    f"{profile}-profile size, N as in the table, {dataset} data, {profile} profile, seeds per row "
    f"{ {names[k]: len(v) for k, v in row_seeds.items()} }; protocol: "
    f"{protocol} (the Transformer row: N={frames_of.get('transformer')} windows)",
)  # fmt: skip
nb.summary({f"mpjpe_{k}": s.mean for k, s in stats.items()} | {f"std_{k}": s.std for k, s in stats.items()})

# %%
ds = load_dataset(dataset, data_dir=data_dir)
baseline = mean_pose_baseline(ds).mpjpe
verdicts = nb.judge("pstmo_table4", runs, baseline=baseline)
matched = [names[k] for k in keys if names[k] not in unmatched]
cost = [
    f"{names[k]} {counts[k]['params_paper'] / 1e6:.2f}M / {counts[k]['flops_paper'] / 1e6:.0f}M" for k in keys
]
display(Markdown(
    f"**Params/FLOPs.** Our exact counts (parameters / FLOPs: {', '.join(cost)}) reproduce the printed figures of "
    f"{len(matched)} of {len(keys)} rows"
    + (f"; {', '.join(unmatched)} {'does' if len(unmatched) == 1 else 'do'} not, as documented with the figures in "
       "docs/FIDELITY.md ('Rows we do not match')." if unmatched else ".")
    + "\n\n" + findings.sentence(findings.best([(names[k], s) for k, s in stats.items()]))
    + " " + findings.sentence(findings.spread_sentence([(names[k], s) for k, s in stats.items()], baseline))
))  # fmt: skip

# %% [markdown]
# ## Like with like
#
# `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared Human3.6M> --only table4` trains every
# backbone at the paper's N (243; the Transformer 81) with the paper's recipe.
