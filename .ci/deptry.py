"""Run deptry against the dependencies declared in setup.cfg.

deptry reads pyproject.toml's ``[project]`` or requirements files, not setup.cfg;
this writes ``install_requires`` and the runtime extras (everything but ``test``)
to one requirements file and the ``test`` extra to another, in a temporary
directory, then runs deptry twice: on the code (exchange, ledger, matching,
wsgi.py) against the runtime dependencies, and on tests/ against runtime and
test dependencies. Its settings (ignores, with the reason for each) are in
pyproject.toml's ``[tool.deptry]``.

Usage: ``.venv/bin/python .ci/deptry.py`` from the repository root.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_EXTRAS = {"test"}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def main() -> int:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    runtime = _lines(config.get("options", "install_requires", fallback=""))
    dev: list[str] = []
    if config.has_section("options.extras_require"):
        for extra, value in config.items("options.extras_require"):
            (dev if extra in DEV_EXTRAS else runtime).extend(_lines(value))
    with tempfile.TemporaryDirectory(prefix="deptry-") as folder:
        main_file = Path(folder) / "requirements.txt"
        dev_file = Path(folder) / "requirements-dev.txt"
        main_file.write_text("\n".join(runtime) + "\n", encoding="utf-8")
        dev_file.write_text("\n".join(dev) + "\n", encoding="utf-8")
        deptry = [sys.executable, "-m", "deptry", "--config", str(ROOT / "pyproject.toml")]
        code = [*deptry, ".", "--requirements-files", str(main_file)]
        code += ["--requirements-files-dev", str(dev_file)]
        print("== deptry: exchange, ledger, matching (runtime dependencies)", flush=True)
        status = subprocess.call(code, cwd=ROOT)
        # tests/ may import runtime and test dependencies alike; unused ones are not
        # its business (the test extra also holds command-line tools: ruff, mypy, deptry).
        tests = [*deptry, "tests", "--exclude", r"\.venv|__pycache__", "--ignore", "DEP002"]
        tests += ["--requirements-files", f"{main_file},{dev_file}"]
        tests += ["--requirements-files-dev", str(Path(folder) / "none.txt")]
        print("== deptry: tests (runtime and test dependencies)", flush=True)
        return status or subprocess.call(tests, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
