"""The size rule: no application module over 500 lines, no function over 80.

Migrations (generated, one per schema change) and benchmarks are left out; tests too.
A long module or function is a sign to split it by concern (CONVENTIONS.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("exchange", "ledger", "matching")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
# Known and owned elsewhere: matching/_zonal.py is being split by another change (with the
# _clear <-> _zonal cycle). The entry must go when that lands: the test below fails if an
# exception is no longer needed.
EXCEPTIONS = {"matching/_zonal.py:_clear_island"}


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_the_rule_sees_the_application() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert "ledger/journals.py" in names and "exchange/uow.py" in names
    assert not any("/migrations/" in n for n in names)


def test_no_module_over_500_lines() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: {long}"


def _long_functions() -> dict[str, int]:
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                # from the decorator (or def) to the last line, docstring included
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - start + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = length
    return long


def test_no_function_over_80_lines() -> None:
    long = {k: v for k, v in _long_functions().items() if k not in EXCEPTIONS}
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_every_exception_is_still_needed() -> None:
    assert set(_long_functions()) >= EXCEPTIONS, "remove the exceptions that are fixed"
