"""Progress of a local run: one bar for the workflow's nodes, one per running map node's items.

Drawn only on a terminal (or when asked). Without one, the run gets ``NoProgress``,
which never imports rich: a scripted or CI run stays as light as ``import stratoflow``
(tests/unit/test_import_light.py). The console can be injected, so tests render the
bars into a string.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Protocol

from stratoflow import ir

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["NoProgress", "RichProgress", "RunProgress", "start_progress"]


class RunProgress(Protocol):
    """What the scheduler and map nodes report as a run goes on (called from any thread)."""

    def node_done(self, node_id: str) -> None: ...

    def map_started(self, node_id: str, total: int) -> None: ...

    def map_advanced(self, node_id: str, items: int) -> None: ...

    def map_finished(self, node_id: str) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """Reports go nowhere (no terminal)."""

    def node_done(self, node_id: str) -> None:
        """Nothing to draw."""

    def map_started(self, node_id: str, total: int) -> None:
        """Nothing to draw."""

    def map_advanced(self, node_id: str, items: int) -> None:
        """Nothing to draw."""

    def map_finished(self, node_id: str) -> None:
        """Nothing to draw."""

    def stop(self) -> None:
        """Nothing to stop."""


class RichProgress:
    """Rich bars: the workflow's nodes done, and completed/total items of each running map node."""

    def __init__(self, spec: ir.WorkflowSpec, console: Console | None = None) -> None:
        from rich.progress import (  # noqa: PLC0415 - rich is only paid for on a terminal
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar: Progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._bar.start()
        self._workflow = self._bar.add_task(spec.name, total=len(spec.nodes))
        self._maps: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def node_done(self, node_id: str) -> None:
        """Advance the workflow bar."""
        self._bar.advance(self._workflow)

    def map_started(self, node_id: str, total: int) -> None:
        """Show a bar for the map node's items."""
        with self._lock:
            self._maps[node_id] = self._bar.add_task(f"  {node_id}", total=total)

    def map_advanced(self, node_id: str, items: int) -> None:
        """Count ``items`` more items of the map node as done."""
        with self._lock:
            task_id = self._maps.get(node_id)
        if task_id is not None:
            self._bar.advance(task_id, items)

    def map_finished(self, node_id: str) -> None:
        """Draw the final count once (a fast map may finish between refreshes), then drop the bar."""
        with self._lock:
            task_id = self._maps.pop(node_id, None)
        if task_id is not None:
            self._bar.refresh()
            self._bar.remove_task(task_id)

    def stop(self) -> None:
        """Stop drawing (the bars are transient: they leave the terminal clean)."""
        self._bar.stop()


def start_progress(
    spec: ir.WorkflowSpec, enabled: bool | None, console: Console | None = None
) -> RunProgress:
    """Bars on a terminal (``enabled`` None: only if stderr is a TTY), else ``NoProgress``."""
    if not (sys.stderr.isatty() if enabled is None else enabled) or not spec.nodes:
        return NoProgress()
    return RichProgress(spec, console)
