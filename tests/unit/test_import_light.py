"""``import stratoflow`` stays cheap: no AWS SDK, CDK, powertools, moto or rich (in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "aws_cdk", "aws_lambda_powertools", "moto", "rich")

_PROBE = """
import json, sys
{body}
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
print(json.dumps(loaded))
"""


def _modules_printed_by(code: str, env: dict[str, str]) -> list[str]:
    """The module names a fresh interpreter running ``code`` prints as its last line (JSON)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def _loaded_after(body: str, env: dict[str, str]) -> list[str]:
    return _modules_printed_by(_PROBE.format(body=body, heavy=HEAVY), env)


def test_probe_detects_a_heavy_import(subprocess_env: dict[str, str]) -> None:
    # Guards the probe itself: if it could not see an import, the tests below would prove nothing.
    pytest.importorskip("rich")
    assert "rich" in _loaded_after("import rich", subprocess_env)


def test_import_stratoflow_loads_no_heavy_module(subprocess_env: dict[str, str]) -> None:
    assert _loaded_after("import stratoflow", subprocess_env) == []


def test_defining_and_lowering_loads_no_heavy_module(subprocess_env: dict[str, str]) -> None:
    body = """
import stratoflow
from stratoflow.lower import lower
from tests.local import _tasks
lower(_tasks.diamond)
"""
    assert _loaded_after(body, subprocess_env) == []


def test_a_local_run_without_a_terminal_loads_no_heavy_module(subprocess_env: dict[str, str]) -> None:
    body = """
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from tests.local import _tasks
run = run_local(lower(_tasks.diamond), {"x": 2}, RunOptions(progress=False))
assert run.outputs == {"o0": 10}, run.outputs
"""
    assert _loaded_after(body, subprocess_env) == []


def test_accelerators_and_the_lazy_client_name_load_no_heavy_module(subprocess_env: dict[str, str]) -> None:
    body = """
import stratoflow
from stratoflow import accelerators
assert "Client" in stratoflow.__all__
"""
    assert _loaded_after(body, subprocess_env) == []


_LOADED = "import sys\n{body}\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))"


def test_import_stratoflow_does_not_load_pydantic(subprocess_env: dict[str, str]) -> None:
    # pydantic and building the IR models were most of `import stratoflow`'s time (issue 14);
    # the models load when first used (by the first @task), which the second probe proves.
    probes = [
        _LOADED.format(body="import stratoflow"),
        _LOADED.format(body="import stratoflow.ir\nstratoflow.ir.TaskSpec"),
    ]
    outs = [
        subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=subprocess_env,
        ).stdout.strip()
        for probe in probes
    ]
    assert outs[0] == "[]"
    assert "'pydantic'" in outs[1]


# What a plain task, workflow, map and @dynamic run never uses: loaded on first use of its name (issue 14).
ON_FIRST_USE = (
    "stratoflow.define._actors",
    "stratoflow.define._condition",
    "stratoflow.define._context_manager",
    "stratoflow.define._deck",
    "stratoflow.define._echo",
    "stratoflow.define._gates",
    "stratoflow.define._hash_method",
    "stratoflow.define._imperative",
    "stratoflow.define._launch_plan",
    "stratoflow.define._load",
    "stratoflow.define._parameters",
    "stratoflow.define._schedules",
    "stratoflow.define._triggers",
    "stratoflow.runtime._actor",
    "stratoflow.runtime._branch",
    "stratoflow.runtime._gates",
    "stratoflow.ir._node_record",
    "stratoflow.backends.local._actor_pool",
    "stratoflow.backends.local._recover",
)

_PLAIN_RUN = """
import json, sys
from stratoflow import dynamic, map_task, task, workflow

@task
def inc(x: int) -> int:
    return x + 1

@task
def make(n: int) -> list[int]:
    return list(range(n))

@task
def total(xs: list[int]) -> int:
    return sum(xs)

@dynamic
def fan(n: int) -> list[int]:
    return [inc(x=i) for i in range(n)]

@workflow
def plain(n: int) -> tuple[int, list[int]]:
    return total(xs=map_task(inc)(x=make(n=n))), fan(n=n)

assert plain(n=3) == (6, [1, 2, 3])
{after}
print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""


def _plain_run_loads(after: str, env: dict[str, str]) -> list[str]:
    # As users run: the suite's IR checks (STRATOFLOW_CHECK_IR) validate every record written,
    # which loads the records' models.
    users = {name: value for name, value in env.items() if name != "STRATOFLOW_CHECK_IR"}
    return _modules_printed_by(_PLAIN_RUN.format(after=after, names=ON_FIRST_USE), users)


def test_a_plain_local_run_does_not_load_what_it_does_not_use(subprocess_env: dict[str, str]) -> None:
    assert _plain_run_loads("", subprocess_env) == []


def test_a_plain_local_run_loads_neither_logging_nor_a_thread_pool(subprocess_env: dict[str, str]) -> None:
    # Loading them was a few per cent of a short run: nodes and map items start plain threads when
    # they stall, and only warnings log. Both names are importable (the probe sees what is loaded).
    users = {name: value for name, value in subprocess_env.items() if name != "STRATOFLOW_CHECK_IR"}
    stdlib = ("logging", "concurrent.futures", "queue")
    assert _modules_printed_by(_PLAIN_RUN.format(after="", names=stdlib), users) == []
    assert _modules_printed_by(_PLAIN_RUN.format(after="import logging, queue", names=stdlib), users) == [
        "logging",
        "queue",
    ]


def test_the_names_served_on_first_use_load_their_modules(subprocess_env: dict[str, str]) -> None:
    # Guards the probe above (it must see these modules once used), and the lazy names themselves.
    after = """
import stratoflow
from stratoflow import Deck, LaunchPlan, S3Trigger, Workflow, actor_cache, approve
from stratoflow import Echo, FlyteContextManager, HashMethod
from stratoflow.define import ImperativeWorkflow, load_workflow
assert Workflow is ImperativeWorkflow is stratoflow.define._imperative.ImperativeWorkflow
assert stratoflow.CronSchedule is stratoflow.define._schedules.CronSchedule
assert isinstance(stratoflow.current_context(), stratoflow.ExecutionParameters)
from stratoflow.runtime import decide_branch, dispatch_attempt, finish_gate
from stratoflow.backends.local._history import recover_recorded
import stratoflow.backends.local._recover
from stratoflow import conditional
assert stratoflow.ir.NodeRecord is stratoflow.ir._node_record.NodeRecord
import stratoflow.backends.local._actor_pool
"""
    assert _plain_run_loads(after, subprocess_env) == sorted(ON_FIRST_USE)


_STARTERS = ("stratoflow.client._schedules", "stratoflow.client._triggers")
_CLIENT = """
import json, sys
from stratoflow.client import Client, Execution
{after}
print(json.dumps(sorted(m for m in {starters!r} if m in sys.modules)))
"""


def test_the_client_loads_the_starters_modules_on_first_use(subprocess_env: dict[str, str]) -> None:
    # A sandbox run or a CLI reading executions needs the Client alone; the names still resolve.
    after = """
import stratoflow.client
from stratoflow.client import TriggerSettings, start_scheduled_run
assert TriggerSettings is stratoflow.client._triggers.TriggerSettings
assert start_scheduled_run is stratoflow.client._schedules.start_scheduled_run
assert all(hasattr(stratoflow.client, name) for name in stratoflow.client.__all__)
"""
    plain, used = (
        _modules_printed_by(_CLIENT.format(after=code, starters=_STARTERS), subprocess_env)
        for code in ("", after)
    )
    assert plain == []
    assert used == list(_STARTERS)
