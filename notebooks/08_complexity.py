# %% [markdown]
# # 08 · Parameters, FLOPs and speed (P-STMO Table 6, Params/FLOPs of Tables 3–5)
#
# **The claim.** P-STMO is accurate *and* cheap: P-STMO-S with $N = 243$ has 6.2 M parameters and
# 1482 M FLOPs per frame, fewer than PoseFormer with 81 frames (9.5 M, 1624 M), and runs at
# 3504 frames/s on an RTX 3080 Ti — 1.5–7.1× faster than PoseFormer and the anatomy-aware model
# (Table 6). Stage I's decoder is discarded after pre-training and not counted.
#
# **How we count.** Parameters are the trainable parameters of the Stage II model. FLOPs are
# counted by `torch.utils.flop_counter` for one forward pass of one window (the output frame),
# and reported as in the papers (see `pstmo.complexity`: `params_paper`, `flops_paper`). FPS is
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
import numpy as np
import pandas as pd
import torch

from pstmo import notebook, paper
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
reported = paper.paper_table("pstmo_table6").set_index("Method")
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
from functools import partial

from pstmo import bench
from pstmo.models import build_model

dev = resolve_device(device)
fps = {}
for k, (m, n) in MODELS.items():
    if n not in fps_frames:
        continue
    net = build_model(get_config(m, frames=n)).to(dev).eval()
    x = torch.randn(fps_batch, n, 17, 2, generator=torch.Generator().manual_seed(seed)).to(dev)
    with torch.inference_mode():
        t = bench.time_call(partial(net, x), dev, warmup=1, repeats=max(1, int(fps_seconds * 2)))
    fps[k] = fps_batch / float(np.median(t))
ours = pd.DataFrame(
    [
        {
            "Method": k,
            "Params(M)": c["params_paper_m"],
            "FLOPs(M)": c["flops_paper_m"],
            "FPS": fps.get(k, float("nan")),
        }
        for k, c in counts.items()
    ]
)
nb.table(
    paper.beside(ours, paper.paper_table("pstmo_table6"), label=f"{nb.label}, FPS on {dev.type}"),
    "pstmo_table6",
    fps_frames=fps_frames,
    fps_batch=fps_batch,
    fps_device=str(dev),
)
nb.summary({f"fps {k}": v for k, v in fps.items()})

# %% [markdown]
# The Params/FLOPs columns of Tables 3, 4 and 5 are checked row by row in notebooks 05, 06 and 07, LiftFormer's Params columns in notebook 09. The counting convention:

# %%
print(complexity.THOP_CONVENTION)

# %% [markdown]
# ## What the numbers show
#
# Parameters and FLOPs are properties of the architecture, so they match the paper exactly
# whenever the model is built as in the paper (differences would mean an architecture
# mismatch). FPS is not: the paper measured on an RTX 3080 Ti; on a CPU expect tens to
# hundreds of frames per second, and even on a GPU the number depends on batch size,
# precision and the attention kernel.
