"""A node's log, read from where its record says it is: what ``stratoflow logs`` and the web UI print."""

from __future__ import annotations

from pathlib import Path

from stratoflow import ir
from stratoflow.errors import ConfigError

__all__ = ["find_record", "read_node_log"]


def read_node_log(record: ir.NodeRecord) -> str:
    """The log text of one node (or map item) record; ``""`` when it wrote nothing.

    Example:
        >>> read_node_log(history.nodes(run_id)[0])  # doctest: +SKIP
        'loading 3 rows\\n'
    """
    logs = record.logs
    if logs is None:
        return ""
    if logs.kind == "file" and logs.path is not None:
        path = Path(logs.path)
        # A file is made on a node's first line: a silent node (a silent map item) has none.
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    raise ConfigError(
        f"node '{record.node}' of run {record.run_id} logs to CloudWatch ({logs.group}), "
        "which this version cannot read yet"
    )


def find_record(records: list[ir.NodeRecord], node: str, item: int | None) -> ir.NodeRecord:
    """The record of ``node`` (map item ``item``) among a run's ``records``; a ConfigError naming
    the run's nodes when there is none."""
    for record in records:
        if record.node == node and record.item == item:
            return record
    names = sorted({r.node for r in records})
    what = f"node '{node}'" if item is None else f"item {item} of node '{node}'"
    run = records[0].run_id if records else "the run"
    raise ConfigError(f"no {what} in run {run} (its nodes: {', '.join(names) or 'none recorded'})")
