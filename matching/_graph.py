"""Small exact graph algorithms used by zonal clearing (integer max-flow, SCCs, topological
order); deterministic, no floats."""

from __future__ import annotations

from collections import deque


def max_flow(arcs: list[tuple[int, int, int]], src: int, snk: int) -> tuple[int, list[int]]:
    """Edmonds-Karp on a small graph with exact integer capacities. Returns (value, flows)."""
    adj: dict[int, list[int]] = {}
    to: list[int] = []
    cap: list[int] = []
    for u, v, c in arcs:
        adj.setdefault(u, []).append(len(to))
        to.append(v)
        cap.append(c)
        adj.setdefault(v, []).append(len(to))
        to.append(u)
        cap.append(0)
    orig = list(cap)
    value = 0
    while True:
        prev: dict[int, int] = {src: -1}
        dq = deque([src])
        while dq and snk not in prev:
            u = dq.popleft()
            for e in adj.get(u, []):
                if cap[e] > 0 and to[e] not in prev:
                    prev[to[e]] = e
                    dq.append(to[e])
        if snk not in prev:
            break
        push = None
        v = snk
        while v != src:
            e = prev[v]
            push = cap[e] if push is None else min(push, cap[e])
            v = to[e ^ 1]
        assert push is not None
        v = snk
        while v != src:
            e = prev[v]
            cap[e] -= push
            cap[e ^ 1] += push
            v = to[e ^ 1]
        value += push
    flows = [orig[2 * i] - cap[2 * i] for i in range(len(arcs))]
    return value, flows


def scc(n: int, edges: set[tuple[int, int]]) -> list[int]:
    """Strongly connected components numbered by their smallest member, ascending."""
    out: list[set[int]] = [set() for _ in range(n)]
    for u, v in edges:
        out[u].add(v)
    reach = []
    for s in range(n):
        seen = {s}
        stack = [s]
        while stack:
            u = stack.pop()
            for v in out[u]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        reach.append(seen)
    comp = [-1] * n
    nxt = 0
    for s in range(n):
        if comp[s] >= 0:
            continue
        for t in range(s, n):
            if comp[t] < 0 and t in reach[s] and s in reach[t]:
                comp[t] = nxt
        nxt += 1
    return comp


def toposort(ng: int, preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    indeg = [len(p) for p in preds]
    ready = sorted(g for g in range(ng) if indeg[g] == 0)
    out: list[int] = []
    while ready:
        g = ready.pop(0)
        out.append(g)
        for h in sorted(succs[g]):
            indeg[h] -= 1
            if indeg[h] == 0:
                ready.append(h)
                ready.sort()
    if len(out) != ng:  # pragma: no cover - condensation of SCCs is acyclic
        raise RuntimeError("zonal clearing: cyclic price constraints")
    return out
