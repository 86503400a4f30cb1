"""matching/ is a functional core: no I/O frameworks, clock, randomness or logging."""

from __future__ import annotations

import ast
from pathlib import Path

import matching

FORBIDDEN = {"flask", "sqlalchemy", "exchange", "ledger", "logging", "time", "datetime",
             "random", "secrets", "uuid", "os", "socket", "threading", "asyncio"}  # fmt: skip
# the command line module may read files and standard input
IO_ALLOWED = {"cli.py": {"sys"}, "__main__.py": {"sys"}}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_forbidden_imports() -> None:
    pkg = Path(matching.__file__).parent
    files = sorted(pkg.glob("*.py"))
    assert files
    for f in files:
        bad = imported_roots(f) & FORBIDDEN
        assert not bad, f"{f.name} imports {sorted(bad)}"
        if f.name not in IO_ALLOWED:
            assert "sys" not in imported_roots(f), f"{f.name} imports sys"
