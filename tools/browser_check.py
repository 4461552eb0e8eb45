"""Open notebooks in JupyterLab in headless Chromium and report what a reader sees.

    python tools/browser_check.py                          # every notebooks/NN_*.ipynb
    python tools/browser_check.py notebooks/02_h36m_results.ipynb /tmp/nb02.ipynb --out /tmp/bc

For each notebook it prints one line: the notebook's width in px, the widest rendered table's
width in px (and by how much it is wider than the notebook's output area), whether the tab is
marked modified (JupyterLab's ``jp-mod-dirty``) after the kernel started and the page settled, the
number of images, and the path of a screenshot (``<out>/<name>.png``; ``<name>.table.png``
scrolled to the widest table when there is one).

Set-up: JupyterLab of the project's venv on a free localhost port, token and password off,
``--ServerApp.root_dir=<repo>``, fresh settings and workspace folders (autosave off, so a
notebook opened here is never written), headless Chromium through selenium (``pip install
selenium``; ``apt-get install chromium chromium-driver``) with a fresh profile. A notebook
outside the repository (e.g. an executed copy from papermill) is copied into
``<repo>/.browser_tmp/`` (git-ignored) and opened there; notebooks committed without outputs
need such an executed copy to show their tables::

    .venv/bin/papermill notebooks/02_h36m_results.ipynb /tmp/nb02.ipynb -p out_dir /tmp/nb02out
    python tools/browser_check.py /tmp/nb02.ipynb

Exit status 1 when a notebook is marked modified on opening or a table is wider than its
notebook, else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
TMP_DIR = ROOT / ".browser_tmp"
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
)  # fmt: skip
#: JupyterLab settings of the check: no autosave (nothing opened here is written), every cell
#: rendered (tables are measured in place, not skipped by the virtual scroller)
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}

MEASURE_JS = r"""
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) return null;
const nb = panel.querySelector('.jp-Notebook');
const out = panel.querySelector('.jp-OutputArea-output, .jp-MarkdownOutput, .jp-RenderedMarkdown');
const folds = [...panel.querySelectorAll('.jp-Cell details')];
folds.forEach(d => { d.open = true; });  // measure the folded tables too
const tables = [...panel.querySelectorAll('.jp-RenderedMarkdown table, .jp-RenderedHTMLCommon table')];
let widest = null, widestW = 0;
for (const t of tables) {
  const w = Math.max(t.scrollWidth, t.getBoundingClientRect().width);
  if (w > widestW) { widestW = w; widest = t; }
}
let area = 0;
if (widest) {
  const host = widest.closest('.jp-OutputArea-output, .jp-RenderedMarkdown, .jp-MarkdownOutput');
  area = host ? host.clientWidth : 0;
  widest.setAttribute('data-browser-check', 'widest');
}
const tab = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current');
const imgs = [...panel.querySelectorAll('.jp-Cell img')];
return {
  notebook_px: Math.round(nb ? nb.getBoundingClientRect().width : 0),
  output_px: Math.round(area || (out ? out.clientWidth : 0)),
  tables: tables.length,
  folded: folds.length,
  widest_table_px: Math.round(widestW),
  widest_header: widest ? [...widest.querySelectorAll('th')].map(th => th.textContent.trim()).slice(0, 40) : [],
  dirty: tab ? tab.classList.contains('jp-mod-dirty') : null,
  tab_label: tab ? tab.textContent.trim() : null,
  images: imgs.length,
  image_sizes: imgs.map(i => [i.naturalWidth, i.naturalHeight, Math.round(i.getBoundingClientRect().width)]),
  cells: panel.querySelectorAll('.jp-Cell').length,
  kernel: (document.querySelector('.jp-Notebook-ExecutionIndicator') || {}).title || null,
};
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(name: str) -> str:
    """``name`` from the project's venv (``.venv/bin``), else from this interpreter's folder."""
    for folder in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    raise SystemExit(f"{name} not found in {ROOT / '.venv/bin'}; run `make venv`")


@contextlib.contextmanager
def jupyter_lab(tmp: Path, log: Path):
    """A JupyterLab server at ``root_dir=<repo>``; yields its base URL; stops it on exit."""
    port = free_port()
    settings = tmp / "settings"
    for rel, value in LAB_SETTINGS.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))  # fmt: skip
    cmd = [
        venv_bin("jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={ROOT}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--ContentsManager.allow_hidden=True",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise SystemExit(f"JupyterLab exited ({proc.returncode}); see {log}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"JupyterLab did not answer at {url}; see {log}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def chromium(tmp: Path, width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp / 'chrome'}")
    opts.add_argument(f"--window-size={width},{height}")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if binary:
        opts.binary_location = binary
    driver_path = shutil.which("chromedriver")
    service = Service(driver_path) if driver_path else Service()
    return webdriver.Chrome(options=opts, service=service)


def repo_path(path: Path) -> Path:
    """``path`` relative to the repository root; a file outside it is copied into ``.browser_tmp/``."""
    path = path.resolve()
    try:
        return path.relative_to(ROOT)
    except ValueError:
        TMP_DIR.mkdir(exist_ok=True)
        target = TMP_DIR / path.name
        shutil.copy(path, target)
        return target.relative_to(ROOT)


def wait_for(driver, script: str, timeout: float, poll: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(poll)
    return None


def kernel_idle(url: str, rel: Path, timeout: float) -> bool:
    """Wait until the session of ``rel`` has a kernel that is idle (JupyterLab's REST API)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError, ValueError):
            sessions = json.loads(urllib.request.urlopen(f"{url}/api/sessions", timeout=5).read())
            for s in sessions:
                if (
                    s.get("path") == rel.as_posix()
                    and (s.get("kernel") or {}).get("execution_state") == "idle"
                ):
                    return True
        time.sleep(0.5)
    return False


def collapse_left_sidebar(driver) -> bool:
    """Close the left side bar (the file browser) as a reader with a narrow window would."""
    from selenium.webdriver.common.by import By

    tabs = driver.find_elements(By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if not tabs:
        return False
    tabs[0].click()
    return True


def check(driver, url: str, rel: Path, out: Path, settle: float, timeout: float) -> dict:
    """Open ``rel`` in a fresh workspace, wait for its cells and an idle kernel, measure (with the
    file browser open, JupyterLab's default, and closed) and take screenshots."""
    workspace = f"check-{abs(hash(str(rel))) % 10**8}"
    driver.get(f"{url}/lab/workspaces/{workspace}/tree/{quote(rel.as_posix())}?reset")
    wait_for(driver, "return document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length", timeout)
    # the kernel's first reply (language_info) is what may change the metadata: wait for idle
    idle = kernel_idle(url, rel, timeout)
    time.sleep(settle)
    out.mkdir(parents=True, exist_ok=True)
    shot = out / f"{rel.stem}.png"
    driver.save_screenshot(str(shot))
    result = driver.execute_script(MEASURE_JS) or {}  # opens the <details> blocks
    result["kernel_idle"] = bool(idle)
    result["screenshot"] = str(shot)
    if collapse_left_sidebar(driver):
        time.sleep(1.0)
        closed = driver.execute_script(MEASURE_JS) or {}
        result["closed"] = {k: closed.get(k) for k in ("notebook_px", "output_px", "widest_table_px")}
    if result.get("widest_table_px"):
        driver.execute_script(
            "const t = document.querySelector('[data-browser-check=widest]');"
            "if (t) t.scrollIntoView({block: 'start'});"
        )
        time.sleep(0.5)
        table_shot = out / f"{rel.stem}.table.png"
        driver.save_screenshot(str(table_shot))
        result["table_screenshot"] = str(table_shot)
    if result.get("folded"):
        driver.execute_script(
            "const d = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell details');"
            "if (d) d.scrollIntoView({block: 'start'});"
        )
        time.sleep(0.5)
        fold_shot = out / f"{rel.stem}.folded.png"
        driver.save_screenshot(str(fold_shot))
        result["folded_screenshot"] = str(fold_shot)
    return result


def run_all(driver, rel: Path, out: Path, settle: float, timeout: float) -> dict:
    """Run every cell of the open notebook (menu Run > Run All Cells), wait until none is
    running, then measure again and take ``<out>/<name>.run.png`` scrolled to the last image.
    Nothing is saved (autosave is off); the tab is then modified, as after any run."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']").click()
    time.sleep(0.5)
    driver.find_element(
        By.XPATH, "//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']"
    ).click()
    busy = "return [...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))"
    wait_for(driver, busy, 10, 0.2)
    end = time.monotonic() + timeout
    while driver.execute_script(busy) and time.monotonic() < end:
        time.sleep(1.0)
    time.sleep(settle)
    result = driver.execute_script(MEASURE_JS) or {}
    result["finished"] = not driver.execute_script(busy)
    result["errors"] = driver.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".map(e => e.textContent.slice(0, 300)).filter(t => /Error|Traceback/.test(t));"
    )
    shots = []
    for i in range(min(len(result.get("image_sizes") or []), 4)):  # one screenshot per image (4 at most)
        driver.execute_script(
            "const imgs = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell img');"
            f"imgs[{i}].scrollIntoView({{block: 'center'}});"
        )
        time.sleep(0.5)
        shots.append(str(out / f"{rel.stem}.run.img{i}.png"))
        driver.save_screenshot(shots[-1])
    shot = out / f"{rel.stem}.run.png"
    driver.execute_script(
        "const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell');"
        "if (c.length) c[c.length - 1].scrollIntoView({block: 'end'});"
    )
    time.sleep(0.5)
    driver.save_screenshot(str(shot))
    result["screenshot"] = ", ".join([str(shot), *shots])
    return result


def _json_diff(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        lines = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in b:
                lines.append(f"{path}/{key}: removed")
            elif key not in a:
                lines.append(f"{path}/{key}: added {json.dumps(b[key])[:120]}")
            else:
                lines += _json_diff(a[key], b[key], f"{path}/{key}")
        return lines
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b)) for line in _json_diff(x, y, f"{path}/{i}")]
    return [] if a == b else [f"{path}: {json.dumps(a)[:80]} -> {json.dumps(b)[:80]}"]


def saved_diff(driver, url: str, src: Path, settle: float, timeout: float) -> list[str]:
    """What JupyterLab changes in ``src`` on opening: a copy (with its jupytext pair and the
    folder's ``jupytext.toml``) in ``.browser_tmp/saved/`` is opened, saved with Ctrl+S once the
    kernel is idle, and compared with the original (JSON paths of what changed)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    folder = TMP_DIR / "saved"
    folder.mkdir(parents=True, exist_ok=True)
    for extra in (src.with_suffix(".py"), src.parent / "jupytext.toml"):
        if extra.is_file():
            shutil.copy(extra, folder / extra.name)
    target = folder / src.name
    shutil.copy(src, target)
    before = target.stat().st_mtime_ns
    rel = target.relative_to(ROOT)
    driver.get(f"{url}/lab/workspaces/save-{abs(hash(str(rel))) % 10**8}/tree/{quote(rel.as_posix())}?reset")
    wait_for(driver, "return document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length", timeout)
    kernel_idle(url, rel, timeout)
    time.sleep(settle)
    driver.execute_script(
        "const n = document.querySelector('.jp-NotebookPanel .jp-Notebook'); if (n) n.focus();"
    )
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    end = time.monotonic() + timeout
    while target.stat().st_mtime_ns == before and time.monotonic() < end:
        time.sleep(0.3)
    if target.stat().st_mtime_ns == before:
        return ["(not saved)"]
    return _json_diff(json.loads(src.read_text()), json.loads(target.read_text())) or ["(identical)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--out", type=Path, default=Path("/tmp"), help="screenshot folder (default /tmp)")
    parser.add_argument("--width", type=int, default=1150)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--settle", type=float, default=4.0, help="seconds to wait after the kernel is idle")
    parser.add_argument(
        "--timeout", type=float, default=90.0, help="seconds to wait for a notebook and its kernel"
    )
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument(
        "--run", action="store_true",
        help="also run all cells in the browser (the project's kernel) and measure again; nothing is saved",
    )  # fmt: skip
    parser.add_argument(
        "--saved-diff", action="store_true",
        help="also save a copy of each notebook from JupyterLab and print what it changed (metadata, ...)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"not found: {missing}")
    rels = [repo_path(p) for p in paths]
    mtimes = {rel: (ROOT / rel).stat().st_mtime_ns for rel in rels}
    results, bad = {}, 0
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="browser_check_") as tmp_name:
        tmp = Path(tmp_name)
        with jupyter_lab(tmp, args.out / "browser_check_jupyter.log") as url:
            driver = chromium(tmp, args.width, args.height)
            try:
                print(f"JupyterLab {url}, Chromium window {args.width}x{args.height}")
                for rel in rels:
                    r = check(driver, url, rel, args.out, args.settle, args.timeout)
                    results[str(rel)] = r
                    over = r.get("widest_table_px", 0) - r.get("output_px", 0) if r.get("tables") else 0
                    bad += bool(r.get("dirty")) + (over > 0)
                    print(
                        f"{rel}: notebook {r.get('notebook_px')} px (output area {r.get('output_px')} px), "
                        f"widest of {r.get('tables', 0)} tables ({r.get('folded', 0)} folded blocks) {r.get('widest_table_px', 0)} px"
                        + (f" ({over:+d} px)" if r.get("tables") else "")
                        + f", modified={r.get('dirty')}, images={r.get('images')}, kernel idle={r['kernel_idle']}"
                        f", screenshot {r['screenshot']}"
                    )
                    if r.get("closed"):
                        c = r["closed"]
                        print(f"    file browser closed: notebook {c['notebook_px']} px (output area {c['output_px']} px)"
                              f", widest table {c['widest_table_px']} px")  # fmt: skip
                    if r.get("tables") and over > 0:
                        print(f"    widest table's columns: {r.get('widest_header')}")
                    if args.run:
                        ran = run_all(driver, rel, args.out, args.settle, max(args.timeout, 300))
                        r["run"] = ran
                        print(
                            f"    after Run All: finished={ran['finished']}, images={ran.get('images')} "
                            f"{ran.get('image_sizes')}, widest table {ran.get('widest_table_px')} px of "
                            f"{ran.get('output_px')}, modified={ran.get('dirty')}, errors={ran['errors']}, "
                            f"screenshot {ran['screenshot']}"
                        )
                    if args.saved_diff:
                        diff = saved_diff(driver, url, ROOT / rel, args.settle, args.timeout)
                        r["saved_diff"] = diff
                        print(
                            "    saved by JupyterLab: "
                            + "; ".join(diff[:12])
                            + (" ..." if len(diff) > 12 else "")
                        )
            finally:
                driver.quit()
    changed = [str(rel) for rel in rels if (ROOT / rel).stat().st_mtime_ns != mtimes[rel]]
    if changed:
        print(f"WARNING: written while open: {changed}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
