# %% [markdown]
# # 08 · Parameters, FLOPs and speed (P-STMO Table 6, Params/FLOPs of Tables 3–5)
#
# **The claim.** P-STMO is accurate *and* cheap: P-STMO-S with $N = 243$ has 6.2 M parameters and
# 1482 M FLOPs per frame, fewer than PoseFormer with 81 frames (9.5 M, 1624 M), and runs at
# 3504 frames/s on an RTX 3080 Ti — 1.5–7.1× faster than PoseFormer and the anatomy-aware model
# (Table 6). Stage I's decoder is discarded after pre-training and not counted.
#
# **How we count.** Parameters and FLOPs of the Stage II model follow the paper's counting (the
# thop 0.1 rules: parameters of the Conv / Linear / norm modules that run, FLOPs = 2 x their
# multiply-accumulates for one $N$-frame window, i.e. one output frame); `pstmo.complexity` gives
# them as `params_paper` / `flops_paper` beside every parameter and `torch.utils.flop_counter`'s
# total, and docs/FIDELITY.md explains the convention and the rows it does not reproduce. FPS is
# *measured* on the current device with batched inference, so it depends on your hardware.

# %% tags=["parameters"]
# Parameters (papermill overrides these; see `pstmo sweep` and `pstmo reproduce`).
profile = "smoke"  # "smoke": seconds on a CPU; "paper": the papers' settings
dataset = "demo"  # "demo" (bundled CMU mocap), "h36m", "3dhp" or "humaneva"
data_dir = None  # folder of the prepared dataset (None: the bundled demo data)
device = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
seed = 0
out_dir = None  # None: results/ and figures/ of the repository
fps_frames = [81]  # N of the Table 6 rows whose FPS is measured here (paper rows: 81, 243)
fps_batch = 32  # windows per forward pass when measuring FPS
fps_seconds = 1.0  # measuring time per model

# %%
import pandas as pd
import torch

from pstmo.experiments import notebook
from pstmo.report import papers
from pstmo.runtime import resolve_device

nb = notebook.setup("08_complexity", profile, dataset, data_dir, device, seed, out_dir)

# %% [markdown]
# ## P-STMO Table 6: parameters and FLOPs per output frame (exact)

# %%
# NBVAL_CHECK_OUTPUT
from pstmo import complexity
from pstmo.models import get_config

MODELS = {
    "P-STMO-S (N=81)": ("p-stmo-s", 81),
    "P-STMO-S (N=243)": ("p-stmo-s", 243),
    "P-STMO (N=243)": ("p-stmo", 243),
}
counts = {k: complexity.count(get_config(m, frames=n)) for k, (m, n) in MODELS.items()}
reported = papers.paper_table("pstmo_table6").set_index("Method")
print(f"{'model':<18}{'Params(M) paper':>16}{'ours':>8}{'FLOPs(M) paper':>16}{'ours':>8}{'params (all)':>14}")
for k, c in counts.items():
    r = reported.loc[k]
    print(
        f"{k:<18}{r['Params(M)']:>16}{c['params_paper_m']:>8}{r['FLOPs(M)']:>16}{c['flops_paper_m']:>8}{c['params_total']:>14,}"
    )

# %% [markdown]
# ## FPS measured on this device
# Output frames per second of batched inference (no flip), the way Table 6 measures it: data already on the device. In the smoke profile torch runs one thread (see the set-up cell), so CPU numbers are single-core.

# %%
from IPython.display import Markdown, display

from pstmo.complexity import frames_per_second
from pstmo.models import build_model

dev = resolve_device(device)
fps = {}
for k, (m, n) in MODELS.items():
    if n not in fps_frames:
        continue
    net = build_model(get_config(m, frames=n)).to(dev).eval()
    x = torch.randn(fps_batch, n, 17, 2, generator=torch.Generator().manual_seed(seed)).to(dev)
    fps[k] = frames_per_second(net, x, min_run_time=fps_seconds)
threads = torch.get_num_threads() if dev.type == "cpu" else None
ours = pd.DataFrame(
    [
        {
            "Method": k,
            "Params(M)": round(c["params_paper"] / 1e6, 2),
            "FLOPs(M)": round(c["flops_paper"] / 1e6, 1),
            "FPS": round(fps[k]) if k in fps else None,
        }
        for k, c in counts.items()
    ]
)
ours["FPS"] = ours["FPS"].astype("Int64")
reported = papers.paper_table("pstmo_table6")
reported["FLOPs(M)"] = reported["FLOPs(M)"].astype("Int64")
reported["FPS"] = reported["FPS"].astype("Int64")
where = f"{dev.type}" + (f", {threads} thread{'s' if threads != 1 else ''}" if threads else "")
table = papers.beside(ours, reported, label="ours", on=["Method"]).rename(columns={
    "Params(M) (ours)": "Params(M) (ours, exact)", "FLOPs(M) (ours)": "FLOPs(M) (ours, exact)",
    "Measured by": "Measured by (paper)", "MPJPE": "MPJPE (paper)",  # FPS (ours): the note says where
})  # fmt: skip
nb.table(
    table, "pstmo_table6", fps_frames=fps_frames, fps_batch=fps_batch, fps_device=str(dev), fps_threads=threads,
    title="P-STMO Table 6: parameters, FLOPs per output frame and speed (paper rows, ours beside the P-STMO rows)",
    note=f"ours: Params/FLOPs exact counts of the full-size models (the paper's counting convention, "
    f"pstmo.complexity); FPS measured here ({where}), batch {fps_batch}, no flip, random input, for N in "
    f"{fps_frames}; the paper measured on a GeForce RTX 3080 Ti. No MPJPE of ours: see notebooks 00 and 02",
)  # fmt: skip
nb.summary({f"fps {k}": v for k, v in fps.items()})

# %% [markdown]
# The Params/FLOPs columns of Tables 3, 4 and 5 are checked row by row in notebooks 05, 06 and 07, LiftFormer's Params columns in notebook 09. The counting convention:

# %%
print(complexity.THOP_CONVENTION)

# %%
matched = [k for k, c in counts.items()
           if complexity.printed_match(reported.set_index("Method").loc[k, "Params(M)"], c["params_paper"], 1e6, 1)
           and complexity.printed_match(float(reported.set_index("Method").loc[k, "FLOPs(M)"]), c["flops_paper"], 1e6, 0)]  # fmt: skip
unmatched = [k for k in counts if k not in matched]
text = (
    f"Our exact counts reproduce the printed Params and FLOPs of {len(matched)} of {len(counts)} P-STMO rows"
    + (
        f"; {', '.join(unmatched)} do{'es' if len(unmatched) == 1 else ''} not (see docs/FIDELITY.md)."
        if unmatched
        else "."
    )
)
if fps:
    paper_fps = reported.set_index("Method")["FPS"]
    parts = [f"{k}: {v:,.0f} frames/s here against {int(paper_fps[k]):,} in the paper "
             f"({'%.0fx fewer' % (paper_fps[k] / v) if v < paper_fps[k] else '%.1fx more' % (v / paper_fps[k])})"
             for k, v in fps.items()]  # fmt: skip
    text += (
        f" FPS is a property of the hardware, not of the architecture: {'; '.join(parts)}, measured on {where} "
        f"where the paper used a GPU."
    )
    if len(fps) >= 2:
        (ka, va), (kb, vb) = list(fps.items())[:2]
        fa, fb = counts[ka]["flops_paper"], counts[kb]["flops_paper"]
        text += (
            f" The ratio between models is closer to comparable: {ka} runs {va / vb:.2f}x as fast as {kb} here, with "
            f"{fb / fa:.2f}x fewer FLOPs (the paper: {paper_fps[ka] / paper_fps[kb]:.2f}x as fast)."
        )
display(Markdown(text))

# %% [markdown]
# ## Like with like
#
# The counts need no data. For FPS like the paper's, run on a GPU:
# `papermill notebooks/08_complexity.ipynb out.ipynb -p device cuda -p fps_frames "[81, 243]"`.
