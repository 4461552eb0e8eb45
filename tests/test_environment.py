"""The pins in requirements.lock and environment.yml must agree exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = PIN.match(line)
        assert m, f"requirements.lock: not an exact pin: {line!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_pins() -> dict[str, str]:
    pins = {}
    in_pip = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.strip() == "- pip:":
            in_pip = True
            continue
        if in_pip and line.strip().startswith("- "):
            m = PIN.match(line.strip()[2:])
            assert m, f"environment.yml: not an exact pin: {line!r}"
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_lock_and_environment_agree():
    lock, conda = _lock_pins(), _conda_pins()
    assert lock, "requirements.lock has no pins"
    assert lock == conda


def test_torch_pinned_to_cpu_release():
    assert _lock_pins()["torch"] == "2.13.0"


def test_project_dependencies_are_locked():
    text = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"dependencies = \[(.*?)\]", text, re.S).group(1)
    names = [re.split(r"[<>=!~\[ ]", d.strip().strip('",'))[0].lower() for d in deps.split("\n") if d.strip()]
    lock = _lock_pins()
    missing = [n for n in names if n and n not in lock]
    assert not missing, f"dependencies of pyproject.toml missing from requirements.lock: {missing}"
