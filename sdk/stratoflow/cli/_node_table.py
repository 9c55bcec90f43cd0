"""The per-node table of ``stratoflow executions show``: one row per node, a map's items counted
(``--items``: one row per item too)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from stratoflow import ir

__all__ = ["item_counts", "node_table"]

_HEADER = ("NODE", "STATUS", "ATTEMPTS", "TARGET", "DURATION", "CACHE", "ITEMS", "ERROR")


def item_counts(items: Iterable[ir.NodeRecord]) -> str:
    """A map's items as ``ok / failed / cached`` counts (``ok`` counts computed items only)."""
    counts = Counter(record.status for record in items)
    return (
        f"{counts[ir.NodeStatus.SUCCEEDED]} ok / {counts[ir.NodeStatus.FAILED]} failed / "
        f"{counts[ir.NodeStatus.CACHED]} cached"
    )


def _duration(record: ir.NodeRecord) -> str:
    if record.started is None:
        return "-"
    if record.finished is None:
        return "running"
    return f"{record.finished - record.started:.2f}s"


def _cache(record: ir.NodeRecord) -> str:
    if record.cache_hit:
        return "hit"
    return "miss" if record.cache_key is not None else "-"


def _row(record: ir.NodeRecord, name: str, items: str) -> tuple[str, ...]:
    return (
        name,
        record.status.value,
        str(record.attempts) if record.attempts else "-",
        record.target,
        _duration(record),
        _cache(record),
        items,
        (record.error or "").splitlines()[0] if record.error else "",
    )


def node_table(records: list[ir.NodeRecord], *, items: bool = False) -> list[str]:
    """The table's lines: nodes in the records' order, each map node with its item counts and,
    with ``items``, its items below it (``node[i]``)."""
    by_node: dict[str, list[ir.NodeRecord]] = {}
    for record in records:
        if record.item is not None:
            by_node.setdefault(record.node, []).append(record)
    rows: list[tuple[str, ...]] = [_HEADER]
    for record in records:
        if record.item is not None:
            continue
        mapped = by_node.get(record.node)
        rows.append(_row(record, record.node, item_counts(mapped) if mapped else "-"))
        if items and mapped:
            rows.extend(_row(item, f"  {record.node}[{item.item}]", "-") for item in mapped)
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    ]
