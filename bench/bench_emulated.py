"""Emulated-AWS figures for the compiled state machines (issue: ASL + runner + emulated AWS).

Prints:
- the largest state payload (bytes) for a task passing 1 KB vs 5 MB to the next task;
- state transitions per node for an uncached and a fully cached run of a diamond;
- the import time of the Lambda handler module (a cold-start proxy), median of fresh processes.

Run: .venv/bin/python bench/bench_emulated.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stratoflow import task, workflow  # noqa: E402
from stratoflow.lower import lower  # noqa: E402
from stratoflow.testing._sandbox import Sandbox  # noqa: E402
from tests.emulated import flows  # noqa: E402


def _transitions(events: list[dict[str, object]]) -> int:
    return sum(1 for e in events if str(e["type"]).endswith("StateEntered"))


@task
def make_text(size: int) -> str:
    return "x" * size


@task
def text_length(text: str) -> int:
    return len(text)


@workflow
def pass_text(size: int) -> int:
    return text_length(text=make_text(size=size))


def payloads(sandbox: Sandbox) -> None:
    spec = lower(pass_text)
    sizes = {}
    for label, size in (("1 KB", 1024), ("5 MB", 5 * 1024 * 1024)):
        execution = sandbox.run(spec, {"size": size})
        if execution.outputs() != {"o0": size}:
            raise SystemExit(f"wrong output for a {label} value")
        sizes[label] = sandbox.aws.wait(execution.arn).max_payload_bytes
    print(
        f"largest state payload: {sizes['1 KB']} B for a 1 KB output vs {sizes['5 MB']} B for a 5 MB output "
        f"(target: equal) -> {'equal' if sizes['1 KB'] == sizes['5 MB'] else 'DIFFERENT'}"
    )


def transitions(sandbox: Sandbox) -> None:
    spec = lower(flows.diamond)
    nodes = len(spec.nodes)
    first = sandbox.run(spec, {"x": 12345})
    second = sandbox.run(spec, {"x": 12345})
    for label, execution in (("uncached", first), ("cached", second)):
        events = sandbox.aws.wait(execution.arn).events
        total = _transitions(events)
        lambdas = sum(1 for e in events if e["type"] == "TaskStateEntered")
        print(
            f"{label:>8} run of a {nodes}-node diamond: {total} state transitions "
            f"({total / nodes:.2f} per node; {lambdas / nodes:.2f} Lambda task states per node)"
        )


def handler_import_ms(runs: int = 7) -> None:
    samples = []
    code = (
        "import time; t = time.perf_counter(); import stratoflow_functions.task_runner; "
        "print(time.perf_counter() - t)"
    )
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        samples.append(float(out.stdout.strip()) * 1000)
    print(
        f"Lambda handler module import: median {statistics.median(samples):.0f} ms over {runs} fresh processes "
        f"(target <= 300 ms)"
    )


def main() -> None:
    started = time.perf_counter()
    with Sandbox() as sandbox:
        payloads(sandbox)
        transitions(sandbox)
    handler_import_ms()
    print(f"(bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
