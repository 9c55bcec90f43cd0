"""A happens-before checker for compiled ASL, independent of the compiler's own plan.

It finds each workflow node's Task states through the runner contract (the Lambda
``Payload.node`` or the container's ``STRATOFLOW_NODE``), not through state names, and
decides ordering from the ASL structure alone: inside one scope (the machine or a
Parallel branch) a state runs before another when the other is reachable from it; states
in different branches of one Parallel run concurrently; everything inside a Parallel
runs before whatever the Parallel state reaches. A Map's ``ItemProcessor`` is a scope
nested in the Map state, like a one-branch Parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A state's position: for each nesting level, (scope id, state name) from the root down.
Position = tuple[tuple[int, str], ...]


@dataclass
class _Scope:
    start: str
    edges: dict[str, set[str]]


def _targets(state: dict[str, Any]) -> set[str]:
    out = {state[k] for k in ("Next", "Default") if k in state}
    out |= {rule["Next"] for rule in state.get("Choices", ())}
    out |= {catcher["Next"] for catcher in state.get("Catch", ())}
    return out


def _node_of(state: dict[str, Any]) -> str | None:
    if state.get("Type") != "Task":
        return None
    parameters = state.get("Parameters", {})
    if "Payload" in parameters:
        return str(parameters["Payload"]["node"])
    for override in parameters.get("Overrides", {}).get("ContainerOverrides", ()):
        for variable in override.get("Environment", ()):
            if variable["Name"] == "STRATOFLOW_NODE":
                return str(variable["Value"])
    return None


class AslOrder:
    """Ordering facts about the workflow nodes of one compiled definition."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.scopes: list[_Scope] = []
        self.tasks: dict[str, list[Position]] = {}
        self._walk(definition, ())

    def _walk(self, machine: dict[str, Any], prefix: Position) -> None:
        scope_id = len(self.scopes)
        states = machine["States"]
        self.scopes.append(_Scope(machine["StartAt"], {n: _targets(s) for n, s in states.items()}))
        for name, state in states.items():
            position = (*prefix, (scope_id, name))
            node = _node_of(state)
            if node is not None:
                self.tasks.setdefault(node, []).append(position)
            for branch in state.get("Branches", ()):
                self._walk(branch, position)
            # A Map's item processor runs inside the Map state: one nested scope.
            if "ItemProcessor" in state:
                self._walk(state["ItemProcessor"], position)

    def _reachable(self, scope: int, start: str, removed: str | None = None) -> set[str]:
        edges = self.scopes[scope].edges
        seen: set[str] = set()
        stack = [start] if start != removed else []
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            stack += [t for t in edges[name] if t != removed]
        return seen

    @staticmethod
    def _split(a: Position, b: Position) -> tuple[int, int] | None:
        """(level, scope) where a and b first differ, or None if concurrent / identical."""
        for level, ((scope_a, name_a), (scope_b, name_b)) in enumerate(zip(a, b, strict=False)):
            if scope_a != scope_b:
                return None  # different branches of the Parallel one level up
            if name_a != name_b:
                return level, scope_a
        return None

    def before(self, a: Position, b: Position) -> bool:
        """Whenever both run, ``a`` has finished before ``b`` starts."""
        split = self._split(a, b)
        if split is None:
            return False
        level, scope = split
        return b[level][1] in self._reachable(scope, a[level][1]) - {a[level][1]}

    def dominates(self, a: Position, b: Position) -> bool:
        """Every run that reaches ``b`` has gone through ``a`` first."""
        split = self._split(a, b)
        if split is None:
            return False
        level, scope = split
        return b[level][1] not in self._reachable(scope, self.scopes[scope].start, removed=a[level][1])

    def entry(self, node: str) -> Position:
        """The node's first Task state (its cache check, or its only run state)."""
        positions = self.tasks[node]
        firsts = [p for p in positions if not any(self.before(q, p) for q in positions if q != p)]
        assert len(firsts) == 1, f"node {node!r} has no unique first state: {firsts}"
        return firsts[0]

    def runs_before(self, x: str, y: str) -> bool:
        """Every state of ``x`` finishes before any state of ``y`` starts, and ``y`` cannot skip ``x``."""
        entry = self.entry(x)
        return all(
            self.before(a, b) and self.dominates(entry, b) for a in self.tasks[x] for b in self.tasks[y]
        )

    def concurrent(self, x: str, y: str) -> bool:
        """``x`` and ``y`` run in different branches of one Parallel state."""
        a, b = self.entry(x), self.entry(y)
        return not self.before(a, b) and not self.before(b, a) and a != b


def order_violations(definition: dict[str, Any], upstream: dict[str, list[str]]) -> list[str]:
    """Dependencies the definition does not enforce (empty when every node waits for its inputs)."""
    order = AslOrder(definition)
    missing = sorted(set(upstream) - set(order.tasks))
    problems = [f"node {n!r} has no Task state" for n in missing]
    for node, deps in upstream.items():
        problems += [
            f"{node!r} may start before {dep!r} finished" for dep in deps if not order.runs_before(dep, node)
        ]
    return problems
