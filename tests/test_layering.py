"""The package's layering (DESIGN.md): imports point down, leaves import nothing of pstmo, no cycles.

Every ``import pstmo...`` / ``from pstmo... import`` in the package, at module level or inside a
function, is an edge. A module may import only from a strictly lower layer, or from its own
sub-package (``pstmo.models.stmo`` -> ``pstmo.models.layers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pstmo"

#: layer of each top-level module / sub-package (DESIGN.md, "Layers")
LAYERS: dict[str, int] = {
    "errors": 0, "io": 0, "skeleton": 0, "paths": 0,
    "options": 1, "state": 1, "cameras": 1, "metrics": 1, "runtime": 1, "registry": 1,
    "data": 2, "masking": 2,
    "models": 3, "losses": 3,
    "official": 4, "complexity": 4, "report": 4,
    "config": 5,
    "checkpoint": 6,
    "inference": 7,
    "evaluate": 8,
    "train": 9,
    "lift": 10,
    "experiments": 11,
    "commands": 12,
    "cli": 13,
    "__main__": 14, "__init__": 14,
}  # fmt: skip
LEAVES = ("errors", "io", "skeleton", "paths")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("pstmo")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pstmo"):
                targets.add(node.module)
                targets |= {f"{node.module}.{a.name}" for a in node.names if (PACKAGE.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()}  # fmt: skip
        graph[name] = {t for t in targets if t != "pstmo" and t != name}
    return graph


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = _edges()


def test_every_module_has_a_layer():
    missing = sorted({_top(m) for m in GRAPH} - set(LAYERS))
    assert not missing, f"add these modules to LAYERS and DESIGN.md: {missing}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    here = _top(module)
    upward = [
        t for t in GRAPH[module]
        if _top(t) != here and LAYERS.get(_top(t), 99) >= LAYERS.get(here, -1)
    ]  # fmt: skip
    assert not upward, f"{module} (layer {LAYERS.get(here)}) imports {upward}"


def test_leaves_import_nothing_of_pstmo():
    for module in GRAPH:
        if _top(module) in LEAVES:
            assert not GRAPH[module], f"{module} is a leaf but imports {GRAPH[module]}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in GRAPH.get(m, ()):
            if t not in GRAPH:
                continue
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t) :] + [t]))
            if state.get(t) is None:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
