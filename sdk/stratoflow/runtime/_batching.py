"""The Lambda map's batch rule and the tolerated-failure threshold, shared by the compiler
(literal in a static workflow's Distributed Map) and the runner (``map_prepare`` and
``dag_next`` give them to a dynamic graph's map at run time, from the same rule).
"""

from __future__ import annotations

import math
from typing import Final

from stratoflow import ir

__all__ = ["EXPRESS_MAX_SECONDS", "default_batch_size", "tolerated_failure_percentage"]

EXPRESS_MAX_SECONDS: Final = 300
"""An EXPRESS child execution (one batch) is stopped after 5 minutes."""

# Items per child execution, by the mapped item's type. Every child costs the same
# orchestration fee whatever its size: one Standard state transition in the parent (AWS
# bills one per child execution a Distributed Map starts), an Express request, at least
# 100 ms of 64 MB Express duration and a Lambda request, about $26 per million children;
# it also costs two S3 round trips (read the item inputs, write the results). Batching
# amortises that: 300 scalar items per child is under $0.09 per million items. Bigger
# items take longer each, so fewer per batch keep a batch inside the 5-minute Express
# limit (300 s / batch size is the per-item time budget: 1 s for scalars, 12 s for
# containers, 30 s for objects) and keep a small map spread over several children.
_SCALAR_BATCH: Final = 300
_CONTAINER_BATCH: Final = 25
_OBJECT_BATCH: Final = 10
_BATCH_BY_KIND: Final[dict[str, int]] = {
    "int": _SCALAR_BATCH,
    "float": _SCALAR_BATCH,
    "bool": _SCALAR_BATCH,
    "none": _SCALAR_BATCH,
    "str": _CONTAINER_BATCH,
    "bytes": _CONTAINER_BATCH,
    "list": _CONTAINER_BATCH,
    "dict": _CONTAINER_BATCH,
}


def _item_batch(item: ir.TypeRef) -> int:
    while item.kind == "optional" and item.args:
        item = item.args[0]
    # file, directory, dataclass, pydantic: real objects whose items do real work.
    return _BATCH_BY_KIND.get(item.kind, _OBJECT_BATCH)


def default_batch_size(node: ir.MapNode, task: ir.TaskSpec) -> int:
    """Items per child execution: ``batch_size`` if set, else a default from the item type.

    The rule, per mapped input (zipped inputs take the smallest):

    - ``int``/``float``/``bool``/``None`` items: 300 per batch (keeps the orchestration
      fee under $0.10 per million items; items must take under ~1 s each);
    - ``str``/``bytes``/``list``/``dict`` items: 25;
    - ``File``/``Directory``/dataclass/pydantic items: 10.

    A batch runs its items one after the other in one Lambda call inside an EXPRESS child,
    which is stopped after 5 minutes. So when the task declares a ``timeout``, the default
    is also capped so that a batch's worst case (every item timing out on every attempt,
    ``timeout * (retries + 1)`` each) fits in those 5 minutes: declare a ``timeout`` (or a
    ``batch_size``) on slow mapped tasks. An explicit ``batch_size`` is taken as is.

    Example:
        >>> default_batch_size(node, task)  # doctest: +SKIP
        300
    """
    if node.batch_size is not None:
        return node.batch_size
    types = {v.name: v.type for v in task.inputs}
    size = min((_item_batch(types[name]) for name in node.mapped if name in types), default=_SCALAR_BATCH)
    if task.timeout_seconds:
        worst_item = task.timeout_seconds * (task.retries + 1)
        size = min(size, max(1, EXPRESS_MAX_SECONDS // worst_item))
    return size


def tolerated_failure_percentage(min_success_ratio: float) -> int:
    """``100 * (1 - min_success_ratio)`` rounded down (never more tolerant than asked).

    Float noise is rounded away first, so 0.9 gives 10, not 9.

    Example:
        >>> tolerated_failure_percentage(0.9), tolerated_failure_percentage(0.955)
        (10, 4)
    """
    return max(0, min(100, math.floor(round(100 * (1 - min_success_ratio), 6))))
