# %% [markdown]
# # 01 · Masked pose modeling (P-STMO Fig. 2 and Fig. 4)
#
# **The claim.** Self-supervised pre-training by *masked pose modeling* (MPM) gives STMO a better
# starting point: P-STMO-S improves from 44.2 to 43.2 mm MPJPE on Human3.6M (Table 3). Like
# BERT's masked words and MAE's masked patches, MPM hides part of the 2D input and asks an
# encoder–decoder to reconstruct it. Three strategies (Fig. 2):
#
# * **Temporal masking**: a fraction $q^T$ of the $N$ frames, $|\mathcal{M}^T| = q^T N$, is removed;
#   the encoder sees only the visible frames and the decoder fills the gaps with a learnable
#   *temporal padding embedding* $e^T$.
# * **Spatial masking**: in every frame $m^S$ joints (different ones per frame) are replaced by a
#   learnable *spatial padding joint* $e^S$; $q^S = m^S / J$.
# * **Spatial temporal masking** (used by P-STMO): temporal masking, then spatial masking of the
#   remaining frames, a total ratio of
#
# $$q^{ST} = q^T + (1 - q^T)\, q^S .$$
#
# **The masking-ratio study (Fig. 4).** The best temporal ratio is high, $q^T = 90\%$ (2D pose
# sequences are redundant, so an easy task teaches little); the best spatial number is
# $m^S = 7$ ($q^S = 41.1\%$); combined, $q^T = 80\%$ and $m^S = 2$ ($q^{ST} = 82.3\%$) is best and
# beats the best temporal and spatial settings by 0.3 and 0.33 mm. The paper also reports a
# *negative* correlation between the Stage I loss and the Stage II error: a harder
# reconstruction task makes a better encoder.
#
# Below: the three masks drawn on a real demo sequence, a reduced version of the ratio study,
# and a Stage I reconstruction shown with its input, masks and ground truth. Each point of the
# study pre-trains Stage I with one masking setting, fine-tunes STMO from its encoder (Stage II)
# and reports the test MPJPE, for each of `nb.seeds` seeds; the same STMO trained from scratch
# (no Stage I) is the reference every setting is compared with.
#
# **What is reduced, and why.** The paper sweeps $q^T$ and $m^S$ over 9-10 values each and a
# full grid for Fig. 4c, at $N = 243$, for 80 epochs per run on Human3.6M. Here every run is
# trained on the embedded demo data until its validation error stops improving (the `demo`
# profile: early stopping on frames held out from the training subjects), at the profile's
# ablation size (`nb.frames`, $N = 9$), with the settings the paper's claims compare: two values
# per single-strategy curve (each curve's optimum and one far from it) and the spatio-temporal
# optimum, `nb.seeds` seeds each, all runs through one runner (`pstmo.experiments.runner`: parallel worker
# processes, cached). Each setting is two cells: its Stage I and the Stage II that starts from
# it. The optimum's Stage I and Stage II and `scratch` are the same runs as notebook 05's
# `stage1`, +MPM and STMO rows: the runner trains them once. The parameters below restore any grid.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
seeds = None  # seeds per setting (None: the profile's; smoke 3)
frames = None  # N (None: the profile's ablation N, smoke/demo 9; paper 243)
temporal_ratios = [0.5, 0.9]  # q^T values of Fig. 4a (paper: 0.1 ... 0.9)
spatial_joints = [2, 7]  # m^S values of Fig. 4b (paper: 1 ... 10)
st_cells = [[0.8, 2]]  # (q^T, m^S) cells of Fig. 4c (paper: a grid; optimum 0.8, 2)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from pstmo import masking
from pstmo.checkpoint import load_model
from pstmo.data import load_dataset
from pstmo.evaluate import mean_pose_baseline
from pstmo.experiments import notebook, runner
from pstmo.experiments.runner import Cell
from pstmo.inference import sequence_windows
from pstmo.report import findings, papers, viz

nb = notebook.setup("01_masked_pose_modeling", profile, dataset, data_dir, device, seed, out_dir, seeds=seeds)
N = frames or nb.frames
ds = load_dataset(dataset, data_dir=data_dir)

# %% [markdown]
# ## Fig. 2: the three masking strategies on a real sequence
# Grey frames are replaced by $e^T$; hollow joints by $e^S$.

# %%
seq = ds.sequences("test")[0]
clip = seq.pose_2d[: 9 * 5 : 5]  # 9 frames, every 5th, so the motion is visible
fig = viz.plot_masking_strategies(
    clip, temporal_ratio=0.5, spatial_num=5, st_temporal_ratio=0.4, st_spatial_num=3, seed=seed
)
nb.figure(fig, "01_fig2_masking_strategies")

# %% [markdown]
# ## Fig. 4: the masking-ratio study
# Every setting: Stage I with that mask, Stage II from its encoder, the test MPJPE of Stage II
# (whole test split). The reference is STMO trained from scratch with the same seeds. The learning
# curves show each run reach its plateau and the epoch that was kept (the lowest error on the
# held-out validation frames, never on the test split).

# %%
SETTINGS = (  # cell name (as in pstmo.report.claims), strategy, q^T, m^S
    [(f"t{q:g}", "temporal", q, 0) for q in temporal_ratios]
    + [(f"s{m}", "spatial", 0.0, m) for m in spatial_joints]
    + [(f"st{q:g}-{m}", "spatio-temporal", q, m) for q, m in st_cells]
)
STAGE1 = {
    name: Cell(f"stage1 {name}", stage="pretrain", frames=N,
               overrides=dict(mask_strategy=strategy, mask_ratio=q_t, mask_joints=m_s))
    for name, strategy, q_t, m_s in SETTINGS
}  # fmt: skip
CELLS = [Cell("scratch", frames=N)] + [Cell(name, frames=N, pretrain=STAGE1[name]) for name, *_ in SETTINGS]
runs = nb.run(CELLS + list(STAGE1.values()))
lift, pre = runs[runs["stage"] == "lift"], runs[runs["stage"] == "pretrain"]
nb.figure(viz.plot_learning_curves(runner.learning_curves(lift)), "01_learning_curves")
nb.figure(
    viz.plot_learning_curves(runner.learning_curves(pre), val_label="validation 2D error (Stage I)"),
    "01_stage1_learning_curves",
)
# one row per setting and seed: its Stage I run's 2D error beside its Stage II run's MPJPE
recon = pre.assign(cell=pre["cell"].str.removeprefix("stage1 "))[["cell", "seed", "recon_2d"]]
study = (
    pd.DataFrame(SETTINGS, columns=["cell", "strategy", "q_T", "m_S"])
    .reset_index(names="order")  # the settings' order, then the seeds'
    .merge(recon, on="cell")
    .merge(lift[["cell", "seed", "mpjpe"]], on=["cell", "seed"])
    .sort_values(["order", "seed"], ignore_index=True)
    .drop(columns=["order", "cell"])
)
study["q_ST"] = [masking.masking_ratio_st(q, m) for q, m in zip(study["q_T"], study["m_S"])]
scratch = findings.cell_stats(runs, "scratch")
protocol = lift["protocol"].iloc[0]


# %%
def cells(df):
    """One row per setting: Stage I and Stage II mean ± std over seeds, and the difference of the means from scratch."""
    out = []
    for (strategy, q_t, m_s), g in df.groupby(["strategy", "q_T", "m_S"], sort=False):
        mp = findings.seed_stats(g["mpjpe"])
        out.append({
            "strategy": strategy, "q^T": q_t, "m^S": int(m_s), "q^ST (%)": 100 * masking.masking_ratio_st(q_t, m_s),
            "Stage I 2D error": findings.format_cell(findings.seed_stats(g["recon_2d"]), 3),
            "MPJPE (ours)": findings.format_cell(mp), "vs scratch (mm)": round(mp.mean - scratch.mean, 1),
            "_stats": mp,
        })  # fmt: skip
    return out


setting_rows = cells(study)
table = pd.DataFrame([{k: v for k, v in r.items() if k != "_stats"} for r in setting_rows])
table.loc[len(table)] = {
    "strategy": "none (scratch)", "q^T": 0.0, "m^S": 0, "q^ST (%)": 0.0, "Stage I 2D error": "-",
    "MPJPE (ours)": findings.format_cell(scratch), "vs scratch (mm)": 0.0,
}  # fmt: skip
nb.table(
    table, "01_masking_ratio_study", seeds=nb.seeds, frames=N,
    title="P-STMO Fig. 4 (masking-ratio study), our settings: Stage I error and Stage II MPJPE",
    note=f"ours: P-STMO-S, N={N}, {dataset} data, {profile} profile, seeds {nb.seeds}; Stage I 2D error: of each Stage I "
    f"best.pt on the held-out validation frames, its own masks (fixed seed), normalised image units; MPJPE "
    f"protocol: {protocol}",
)  # fmt: skip

# %%
panels = {
    "01_fig4a_temporal": (
        "temporal",
        "q_T",
        "temporal masking ratio $q^T$",
        0.9,
        "Fig. 4a: temporal masking",
    ),
    "01_fig4b_spatial": ("spatial", "m_S", "masked joints per frame $m^S$", 7, "Fig. 4b: spatial masking"),
}
for name, (strategy, x, xlabel, best_x, title) in panels.items():
    sub = study[study.strategy == strategy]
    if len(sub):
        fig = viz.plot_seed_points(
            sub, x=x, y="mpjpe", reference=(scratch.mean, scratch.std), reference_label="no Stage I (scratch)",
            paper_best=best_x, xlabel=xlabel, title=title,
        )  # fmt: skip
        nb.figure(fig, name)
st = study[study.strategy == "spatio-temporal"]
if st["q_T"].nunique() >= 2 and st["m_S"].nunique() >= 2:  # a grid: the paper's heat map of means
    fig = viz.plot_ablation_heatmap(st, index="m_S", columns="q_T", values="mpjpe")
    fig.axes[0].set_title("Fig. 4c: spatio-temporal masking, mean MPJPE over seeds", fontsize=10)
else:  # our best setting of each strategy beside scratch, with every seed
    best_rows = [min((r for r in setting_rows if r["strategy"] == k), key=lambda r: r["_stats"].mean)
                 for k in dict.fromkeys(study.strategy)]  # fmt: skip
    pts = [{"setting": "scratch", "mpjpe": v} for v in scratch.values]
    for r in best_rows:
        label = f"{r['strategy']}\n$q^T$={r['q^T']:g}, $m^S$={r['m^S']}"
        pts += [{"setting": label, "mpjpe": v} for v in r["_stats"].values]
    fig = viz.new_figure(5.2, 3.3)
    ax = fig.add_subplot(1, 1, 1)
    order = list(dict.fromkeys(p["setting"] for p in pts))
    df_pts = pd.DataFrame(pts).assign(x=lambda d: d["setting"].map(order.index))
    viz.plot_seed_points(
        df_pts, x="x", y="mpjpe", ax=ax, xlabel="", title="Fig. 4c (reduced): each strategy's best"
    )
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, fontsize=7)
nb.figure(fig, "01_fig4c_spatio_temporal")

# %% [markdown]
# ## Our settings beside the paper's optima (Fig. 4 and Sec. 4.3)

# %%
names = {"temporal": "temporal", "spatial": "spatial", "spatio-temporal": "spatial temporal"}
best = {}
for r in setting_rows:
    if r["strategy"] not in best or r["_stats"].mean < best[r["strategy"]]["_stats"].mean:
        best[r["strategy"]] = r
ours = pd.DataFrame([
    {"Strategy": names[k], "q^T": r["q^T"], "m^S": r["m^S"], "MPJPE": r["MPJPE (ours)"]} for k, r in best.items()
])  # fmt: skip
reported = papers.paper_table("pstmo_fig4")
reported["m^S"] = reported["m^S"].astype("Int64")
table = papers.beside(ours, reported, label=nb.label, on=["Strategy"])
table = table.rename(columns={"q^S (%)": "q^S (%) (paper)", "q^ST (%)": "q^ST (%) (paper)",
                              "ST gain (mm)": "ST gain (mm) (paper)", f"MPJPE ({nb.label})": f"best MPJPE ({nb.label})"})  # fmt: skip
nb.table(
    table, "pstmo_fig4", seeds=nb.seeds, frames=N,
    title="P-STMO Fig. 4: the optimal masking setting of each strategy, paper vs the best of our grid",
    note=f"paper: Human3.6M, N=243, full grids; ours: the best mean of our grid (N={N}, {dataset} data, {profile} "
    f"profile, seeds {nb.seeds}), protocol: {protocol}",
)  # fmt: skip
nb.summary(
    {f"mpjpe_{r['strategy']}_{r['q^T']:g}_{r['m^S']}": r["_stats"].mean for r in setting_rows}
    | {"mpjpe_scratch": scratch.mean}, frames=N, seeds=nb.seeds,
)  # fmt: skip


# %%
baseline = mean_pose_baseline(ds).mpjpe
verdicts = nb.judge("pstmo_fig4", runs, baseline=baseline)
text = [findings.sentence(findings.spread_sentence(
    [(f"{r['strategy']} {r['q^T']:g}/{r['m^S']}", r["_stats"]) for r in setting_rows] + [("scratch", scratch)],
    baseline,
))]  # fmt: skip
means = study.groupby(["strategy", "q_T", "m_S"])[["recon_2d", "mpjpe"]].mean()
if len(means) >= 3:
    r = float(np.corrcoef(means["recon_2d"], means["mpjpe"])[0, 1])
    text.append(
        f"Across our {len(means)} settings the correlation between the Stage I error and the Stage II MPJPE (means "
        f"over seeds) is r = {r:+.2f}; the paper reports a negative correlation (a harder Stage I task, a better "
        f"Stage II). "
        + ("Ours has the paper's sign" if r < 0 else "Ours does not have the paper's sign")
        + (f", but |r| < 0.5 from {len(means)} points is too weak to support either reading."
           if abs(r) < 0.5 or len(means) < 5 else f", from {len(means)} points.")
    )  # fmt: skip
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## A Stage I reconstruction: input, masks, reconstruction and ground truth
# The Stage I model pre-trained with the spatio-temporal mask of the study (seed `seed`; the
# `best.pt` of its run above, trained to its plateau) fills in a masked window of a test sequence. The clean input is the ground truth of Stage I; the
# reconstruction comes back in time order (`MPM.forward`). Below the figure, its error on seen
# and on masked joints over *every* test window (fresh masks per window, fixed seed), beside a
# trivial answer: repeating the nearest seen frame.

# %%
st = [(name, q, m) for name, strategy, q, m in SETTINGS if strategy == "spatio-temporal"]
if st:  # the study's spatio-temporal Stage I, seed `seed`: the run trained to its plateau above
    name, q_t, m_s = st[0]
    pre_row = pre[(pre["cell"] == f"stage1 {name}") & (pre["seed"] == seed)].iloc[0]
else:  # no spatio-temporal setting in the grid: the paper's optimum, through the runner (cached)
    q_t, m_s = 0.8, 2
    pre_row = nb.run([Cell("stage1 st0.8-2", stage="pretrain", frames=N)], seeds=[seed]).iloc[0]
mpm, info = load_model(Path(pre_row["run_dir"]) / "best.pt", device="cpu")
gen = torch.Generator().manual_seed(seed)
windows = torch.cat([sequence_windows(s.pose_2d, info.frames, info.tds) for s in ds.sequences("test")])
avg_2d = torch.as_tensor(
    np.concatenate([s.pose_2d for s in ds.sequences("train")]).mean(0), dtype=torch.float32
)
errs = {
    k: []
    for k in ("all", "seen", "temporally masked", "spatially masked", "nearest seen frame", "average pose")
}
with torch.no_grad():
    for x in windows.split(256):
        t_mask, s_mask = masking.spatio_temporal_mask(info.frames, x.shape[-2], q_t, m_s, gen)
        err = torch.linalg.vector_norm(mpm(x, t_mask, s_mask) - x, dim=-1)  # (B, N, J), in time order
        seen = ~(t_mask[:, None] | s_mask)
        errs["all"].append(err)
        errs["seen"].append(err[:, seen])
        errs["temporally masked"].append(err[:, t_mask])
        errs["spatially masked"].append(err[:, s_mask])
        vis = (~t_mask).nonzero().flatten()
        nearest = vis[(torch.arange(info.frames)[:, None] - vis[None]).abs().argmin(1)]  # (N,)
        errs["nearest seen frame"].append(torch.linalg.vector_norm(x[:, nearest] - x, dim=-1)[:, t_mask])
        errs["average pose"].append(torch.linalg.vector_norm(avg_2d - x, dim=-1))
recon_err = {
    k: float(torch.cat([e.flatten() for e in v]).mean()) if v else float("nan") for k, v in errs.items()
}
x = sequence_windows(seq.pose_2d, info.frames, info.tds)[len(seq.pose_2d) // 2][None]
t_mask, s_mask = masking.spatio_temporal_mask(info.frames, 17, q_t, m_s, torch.Generator().manual_seed(seed))
with torch.no_grad():
    recon = mpm(x, t_mask, s_mask)[0].numpy()
fig = viz.plot_reconstruction(x[0].numpy(), recon, t_mask.numpy(), s_mask.numpy())
fig.suptitle(f"Stage I, q^T={q_t:g}, m^S={m_s}: {seq.subject} {seq.action}, window centred on frame "
             f"{len(seq.pose_2d) // 2}", fontsize=9)  # fmt: skip
nb.figure(fig, "01_stage1_reconstruction")

# %%
e = recon_err
height = float(windows[..., 1].amax(-1).sub(windows[..., 1].amin(-1)).mean())
text = (
    f"Over {len(windows):,} test windows the mean 2D error of the reconstruction (normalised image units; a "
    f"person is about {height:.2f} tall) is {e['seen']:.3f} on seen joints and {e['temporally masked']:.3f} on "
    "temporally masked frames"
    + (f", {e['spatially masked']:.3f} on spatially masked joints" if e["spatially masked"] == e["spatially masked"] else "")
    + f". With no model, repeating the nearest seen frame gets {e['nearest seen frame']:.3f} on the temporally masked "
    f"frames, and the average training pose gets {e['average pose']:.3f} on all joints (the model: {e['all']:.3f}). "
)  # fmt: skip
if e["seen"] > 0.8 * e["temporally masked"]:
    text += "Seen joints come back hardly better than masked ones: the model has not yet learned to copy what it sees"
else:
    text += "Seen joints come back better than masked ones, as a working auto-encoder's should"
if e["all"] > 0.5 * e["average pose"]:
    text += ", and its output is still closer to an average pose than to its input"
run_dir = Path(pre_row["run_dir"])
hist, log = runner.history(run_dir), pd.read_csv(run_dir / "steps.csv")
kept = int(hist.loc[hist["val_metric"].idxmin(), "epoch"])
ratio = e["temporally masked"] / e["nearest seen frame"]
text += (
    f"; filling the temporally masked frames it is {'worse' if ratio > 1 else 'better'} than repeating the nearest "
    f"seen frame (its error {ratio:.2f} x that of the copy). "
    + findings.trend_sentence(log["loss"], "Its Stage I loss")
    + f" over {int(pre_row['steps'])} optimizer steps ({len(hist)} epoch{'s' if len(hist) > 1 else ''}, epoch {kept} "
    "kept for its validation error; the paper pre-trains for 80 epochs)."
)
display(Markdown(text))

# %% [markdown]
# ## Like with like
#
# `pstmo reproduce --profile paper --dataset h36m --data-dir <prepared Human3.6M> --only fig4` runs this
# study at N = 243; pass the paper's grids as papermill parameters (`-p temporal_ratios "[0.1, 0.2, ..., 0.9]"`,
# `-p spatial_joints "[1, 2, ..., 10]"`, `-p st_cells ...`), and `pstmo sweep` spreads them over machines.
