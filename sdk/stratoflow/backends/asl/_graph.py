"""Series-parallel decomposition of a workflow DAG (what becomes chains and ``Parallel`` states).

Step Functions can only express *series-parallel* orders: a chain of steps, or a
``Parallel`` state whose branches run concurrently and all finish before the next step.
A workflow DAG is series-parallel exactly when it holds no "N" (a→c, b→c, b→d with a
and d independent). The decomposition below is exact for series-parallel DAGs (it keeps
every bit of parallelism) and, for the rest, adds *synchronisation points*: extra
"waits for" edges that make the order series-parallel while losing as little
parallelism as the heuristic can find.

Algorithm (``decompose``), applied recursively to a set of nodes with the DAG's edges
restricted to it:

1. One node: a leaf.
2. Several weakly connected components: a ``Parallel`` of their decompositions.
3. One connected component: split it in series. A split is a *down-set* ``P`` (closed
   under "upstream of") and the rest ``Q``; running ``P`` before ``Q`` is correct for
   every edge, and its cost is the number of pairs ``(p, q)`` that were independent and
   are now ordered (the parallelism lost). Candidates are the depth cuts (``P`` = nodes
   whose longest path from a source is shorter than ``k``), the height cuts (by longest
   path to a sink) and, for components of at most ``_CLOSURE_CANDIDATES_MAX`` nodes, the
   upstream closure of each node. Every zero-cost cut is taken at once (a connected
   series-parallel component always has one, and taking all keeps long chains linear);
   otherwise the cheapest cut wins (ties: first candidate), and the ordered pairs it adds
   are reported as :class:`SyncPoint` s.

Correctness does not depend on the heuristic: every edge either stays inside one part
(handled recursively) or goes from an earlier part of a series to a later one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Block", "Decomposition", "Leaf", "Parallel", "Series", "SyncPoint", "decompose"]

_CLOSURE_CANDIDATES_MAX = 256


@dataclass(frozen=True)
class Leaf:
    """One workflow node."""

    node: str


@dataclass(frozen=True)
class Series:
    """Parts that run one after the other (at least two)."""

    parts: tuple[Block, ...]


@dataclass(frozen=True)
class Parallel:
    """Branches that run concurrently and are all finished before what follows (at least two)."""

    branches: tuple[Block, ...]


Block = Leaf | Series | Parallel


@dataclass(frozen=True)
class SyncPoint:
    """A node made to wait for nodes it does not depend on, to keep the order series-parallel."""

    node: str
    waits_for: tuple[str, ...]

    def describe(self) -> str:
        """Human-readable note, e.g. for ``stratoflow compile --explain``.

        Example:
            >>> SyncPoint("d", ("a",)).describe()
            "node 'd' waits for 'a' as well (N-shaped dependency)"
        """
        names = ", ".join(f"'{n}'" for n in self.waits_for)
        return f"node '{self.node}' waits for {names} as well (N-shaped dependency)"


@dataclass(frozen=True)
class Decomposition:
    """The series-parallel plan of a DAG; ``root`` is None for an empty workflow."""

    root: Block | None
    sync_points: tuple[SyncPoint, ...]


class _Dag:
    """Node indices in topological order with predecessor/successor lists and reachability bitsets."""

    def __init__(self, nodes: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> None:
        self.names = list(nodes)
        index = {name: i for i, name in enumerate(self.names)}
        self.preds: list[list[int]] = [[] for _ in self.names]
        self.succs: list[list[int]] = [[] for _ in self.names]
        for i, name in enumerate(self.names):
            for dep in upstream.get(name, ()):
                j = index[dep]
                if j >= i:
                    raise ValueError(f"nodes are not in topological order: {dep!r} after {name!r}")
                self.preds[i].append(j)
                self.succs[j].append(i)
        # desc[i]: bitset of nodes reachable from i (excluding i); anc[i]: nodes reaching i.
        self.desc = [0] * len(self.names)
        for i in reversed(range(len(self.names))):
            for s in self.succs[i]:
                self.desc[i] |= self.desc[s] | (1 << s)
        self.anc = [0] * len(self.names)
        for i in range(len(self.names)):
            for p in self.preds[i]:
                self.anc[i] |= self.anc[p] | (1 << p)


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def decompose(nodes: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> Decomposition:
    """Plan a DAG as nested series and parallel blocks (see the module docstring).

    Args:
        nodes: Node ids in topological order (dependencies first).
        upstream: For each node, the ids it depends on (missing key: none).

    Returns:
        The plan, and the synchronisation points added to make it series-parallel.

    Example:
        >>> plan = decompose(["a", "b", "c"], {"c": ["a", "b"]})
        >>> plan.root
        Series(parts=(Parallel(branches=(Leaf(node='a'), Leaf(node='b'))), Leaf(node='c')))
    """
    dag = _Dag(nodes, upstream)
    if not dag.names:
        return Decomposition(root=None, sync_points=())
    planner = _Planner(dag)
    root = planner.plan((1 << len(dag.names)) - 1)
    return Decomposition(root=root, sync_points=tuple(planner.sync_points))


class _Planner:
    def __init__(self, dag: _Dag) -> None:
        self.dag = dag
        self.sync_points: list[SyncPoint] = []

    def plan(self, mask: int) -> Block:
        members = _bits(mask)
        if len(members) == 1:
            return Leaf(self.dag.names[members[0]])
        components = self._components(members, mask)
        if len(components) > 1:
            return Parallel(tuple(self.plan(c) for c in components))
        parts: list[Block] = []
        for part in self._series_parts(members, mask):
            block = self.plan(part)
            # A part split again in series (after a costly cut) joins this chain, not a nested one.
            parts.extend(block.parts if isinstance(block, Series) else (block,))
        return Series(tuple(parts))

    def _components(self, members: list[int], mask: int) -> list[int]:
        """Weakly connected components as bitsets, ordered by their first node."""
        parent = {m: m for m in members}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for m in members:
            for p in self.dag.preds[m]:
                if mask >> p & 1:
                    ra, rb = find(m), find(p)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, int] = {}
        for m in members:
            root = find(m)
            groups[root] = groups.get(root, 0) | (1 << m)
        return [groups[r] for r in sorted(groups)]

    def _series_parts(self, members: list[int], mask: int) -> list[int]:
        """Split a connected set into consecutive parts, every edge pointing forward."""
        depth = self._depths(members, mask)
        levels = max(depth.values()) + 1
        by_level = [0] * levels
        for m in members:
            by_level[depth[m]] |= 1 << m
        # Zero-cost cuts: every node below level k reaches every node at or above it.
        cuts: list[int] = []
        common_desc = mask
        below = 0
        for k in range(1, levels):
            for m in _bits(by_level[k - 1]):
                common_desc &= self.dag.desc[m]
            below |= by_level[k - 1]
            if (mask & ~below) & ~common_desc == 0:
                cuts.append(below)
        if not cuts:
            cuts.append(self._cheapest_cut(members, mask, by_level))
        parts, previous = [], 0
        for cut in [*cuts, mask]:
            parts.append(cut & ~previous)
            previous = cut
        return parts

    def _depths(self, members: list[int], mask: int) -> dict[int, int]:
        depth: dict[int, int] = {}
        for m in members:  # topological order, so predecessors come first
            depth[m] = max((depth[p] + 1 for p in self.dag.preds[m] if mask >> p & 1), default=0)
        return depth

    def _cheapest_cut(self, members: list[int], mask: int, by_level: list[int]) -> int:
        candidates: list[int] = []
        below = 0
        for level in by_level[:-1]:
            below |= level
            candidates.append(below)
        height: dict[int, int] = {}
        for m in reversed(members):
            height[m] = max((height[s] + 1 for s in self.dag.succs[m] if mask >> s & 1), default=0)
        for h in range(max(height.values()), 0, -1):
            candidates.append(sum(1 << m for m in members if height[m] >= h))
        if len(members) <= _CLOSURE_CANDIDATES_MAX:
            for m in members:
                closure = (self.dag.anc[m] & mask) | (1 << m)
                if closure != mask:
                    candidates.append(closure)
        best, best_cost = candidates[0], self._cost(candidates[0], mask)
        for cut in candidates[1:]:
            cost = self._cost(cut, mask)
            if cost < best_cost:
                best, best_cost = cut, cost
        self._record_sync_points(best, mask)
        return best

    def _cost(self, cut: int, mask: int) -> int:
        """Pairs (p in cut, q after it) that were independent and become ordered."""
        rest = mask & ~cut
        return sum((rest & ~self.dag.desc[p]).bit_count() for p in _bits(cut))

    def _record_sync_points(self, cut: int, mask: int) -> None:
        rest = mask & ~cut
        last = [p for p in _bits(cut) if not any(cut >> s & 1 for s in self.dag.succs[p])]
        for q in _bits(rest):
            if any(rest >> p & 1 for p in self.dag.preds[q]):
                continue  # waits through an earlier node of the rest
            extra = tuple(self.dag.names[p] for p in last if not self.dag.desc[p] >> q & 1)
            if extra:
                self.sync_points.append(SyncPoint(self.dag.names[q], extra))
