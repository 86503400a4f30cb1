"""matching/'s modules import each other without cycles (checked on their source)."""

from __future__ import annotations

import ast
from pathlib import Path

import matching


def relative_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
    return out


def test_no_import_cycles() -> None:
    pkg = Path(matching.__file__).parent
    graph = {f.stem: relative_imports(f) for f in pkg.glob("*.py") if f.stem != "__init__"}
    assert graph
    state: dict[str, int] = {}

    def visit(mod: str, path: list[str]) -> None:
        if state.get(mod) == 2 or mod not in graph:
            return
        assert state.get(mod) != 1, "import cycle: " + " -> ".join([*path, mod])
        state[mod] = 1
        for dep in sorted(graph[mod]):
            visit(dep, [*path, mod])
        state[mod] = 2

    for mod in sorted(graph):
        visit(mod, [])
