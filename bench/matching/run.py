"""Benchmark of the matching engine, side by side with peers in their own venvs.

    .venv/bin/python bench/matching/run.py [--peers-root bench/.venvs] [--no-peers]
                                           [--assume-max 1000000] [--out results.json]

Times the clearing core (``matching.clear_book`` on a columnar book, validation included; best
of several runs) on fixed-seed books: single zone 10k/100k/1M orders and zonal 10k/100k/1M
orders over 12 zones with transfer limits. Peers (see setup_peers.sh) get the same books as
JSON through adapter scripts; their reported clearing times exclude JSON loading.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from books import single_zone, write_json, zonal  # noqa: E402

from matching import Book, Order, clear, clear_book  # noqa: E402


def best_of(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def welfare(book: Book, filled: np.ndarray) -> int:  # type: ignore[type-arg]
    signed = np.where(book.is_buy, 1, -1).astype(object) * book.price.astype(object)
    return int((signed * filled.astype(object)).sum())


def run_peer(python: Path, script: str, book_path: Path, timeout: float) -> dict[str, Any]:
    if not python.exists():
        return {"error": f"{python} not found (run setup_peers.sh)"}
    try:
        p = subprocess.run([str(python), str(HERE / script), str(book_path)], capture_output=True,
                           text=True, timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"}
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {"cpu": model, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers-root", default=str(HERE.parent / ".venvs"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--assume-max", type=int, default=1_000_000)
    ap.add_argument("--peer-timeout", type=float, default=900)
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    peers = Path(args.peers_root)
    res: dict[str, Any] = {"machine": machine(), "single": [], "zonal": []}
    tmp = Path(tempfile.mkdtemp(prefix="matching-bench-"))

    for n in (1_000, 10_000, 100_000, 1_000_000):
        book, rules = single_zone(n)
        t, r = best_of(lambda b=book, ru=rules: clear_book(b, ru), 5 if n < 1_000_000 else 3)
        row: dict[str, Any] = {"n": n, "ours_s": t, "price": r.price, "volume": r.volume}
        if n <= 100_000:
            orders = [Order(book.ids[i], "buy" if book.is_buy[i] else "sell",  # type: ignore[index]
                            int(book.quantity[i]), int(book.price[i]), int(book.seq[i]))
                      for i in range(n)]  # fmt: skip
            td, rd = best_of(lambda o=orders, ru=rules: clear(o, ru), 3)
            assert (rd.price, rd.volume) == (r.price, r.volume)
            row["ours_dataclass_s"] = td
        if not args.no_peers and n <= 10_000:
            path = tmp / f"single-{n}.json"
            write_json(book, rules, path)
            pm = run_peer(peers / "pymarket/bin/python", "peer_pymarket.py", path,
                          args.peer_timeout)  # fmt: skip
            row["pymarket"] = pm
            if "uniform_price_s" in pm:
                row["ratio_pymarket_uniform"] = pm["uniform_price_s"] / t
                row["agree_pymarket"] = (pm.get("uniform_price") == r.price
                                         and pm.get("uniform_quantity") == r.volume)  # fmt: skip
        res["single"].append(row)
        print("single", json.dumps(row), flush=True)

    for n in (10_000, 100_000, 1_000_000):
        book, rules = zonal(n)
        t, r = best_of(lambda b=book, ru=rules: clear_book(b, ru), 3 if n < 1_000_000 else 2)
        w = welfare(book, r.filled)
        row = {"n": n, "ours_s": t, "volume": r.volume, "welfare": w,
               "zone_prices": dict(r.zone_prices or ()),
               "flows": [(f.from_zone, f.to_zone, f.quantity) for f in r.flows]}  # fmt: skip
        if not args.no_peers and n <= args.assume_max:
            path = tmp / f"zonal-{n}.json"
            write_json(book, rules, path)
            asm = run_peer(peers / "assume/bin/python", "peer_assume.py", path, args.peer_timeout)
            row["assume"] = asm
            if "clear_s" in asm:
                row["ratio_assume"] = asm["clear_s"] / t
                row["welfare_rel_diff"] = abs(asm["welfare"] - w) / max(1, abs(w))
                zp = asm["zone_prices"]
                row["zone_prices_equal"] = sum(
                    1 for z, p in row["zone_prices"].items()
                    if p is not None and abs(zp.get(z, float("nan")) - p) < 1e-6
                )  # fmt: skip
        res["zonal"].append(row)
        print("zonal", json.dumps(row), flush=True)

    Path(args.out).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
