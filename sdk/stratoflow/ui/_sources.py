"""Where the UI's runs come from: the local run history, or a deployed stack (``--remote``).

Both answer the same four questions as JSON-ready dicts, so the API and the page never
know which one they talk to. Node records, specs and logs are read through ``_records``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from stratoflow import ir
from stratoflow.errors import SdkError, TaskFailedError
from stratoflow.ui import _records
from stratoflow.ui._layout import layout

if TYPE_CHECKING:
    from stratoflow.backends.local import RunHistory, RunRecord
    from stratoflow.client import Client

__all__ = ["LocalSource", "RemoteSource", "RunSource", "node_json"]


class RunSource(Protocol):
    """What the API asks of a backend's runs."""

    def label(self) -> str: ...
    def runs(self, limit: int) -> list[dict[str, Any]]: ...
    def run(self, run_id: str) -> dict[str, Any] | None: ...
    def nodes(self, run_id: str) -> list[dict[str, Any]] | None: ...
    def logs(self, run_id: str, node: str, item: int | None) -> dict[str, Any] | None: ...


def _summary(
    run_id: str, workflow: str, status: str, started: float | None, finished: float | None, **extra: Any
) -> dict[str, Any]:
    duration = None if started is None or finished is None else round(finished - started, 3)
    return {
        "run_id": run_id,
        "workflow": workflow,
        "status": status,
        "started": started,
        "finished": finished,
        "duration": duration,
        **extra,
    }


def _preview(binding: ir.Binding) -> str:
    """Where a node input comes from, in one short line (a literal shows its value)."""
    if isinstance(binding, ir.PromiseBinding):
        return f"{binding.node}.{binding.output}"
    if isinstance(binding, ir.InputBinding):
        return f"workflow input {binding.name}"
    if isinstance(binding, ir.LiteralBinding):
        text = json.dumps(binding.value, default=str)
        return text if len(text) <= 200 else text[:197] + "..."
    if isinstance(binding, ir.ListBinding):
        return "[" + ", ".join(_preview(item) for item in binding.items) + "]"
    if isinstance(binding, ir.DictBinding):
        return "{" + ", ".join(f"{k}: {_preview(v)}" for k, v in binding.entries.items()) + "}"
    return f"{_preview(binding.of)}[{binding.key!r}]"


def _spec_json(spec: ir.WorkflowSpec | None) -> dict[str, Any] | None:
    """The graph to draw and, per node, its inputs' sources and its task (for the node panel)."""
    if spec is None:
        return None
    about: dict[str, dict[str, Any]] = {}
    for node in spec.all_nodes():
        entry: dict[str, Any] = {"kind": node.kind}
        if isinstance(node, ir.TaskNode | ir.MapNode):
            entry["task"] = spec.tasks[node.task].name if node.task in spec.tasks else node.task
            entry["inputs"] = {name: _preview(binding) for name, binding in node.inputs.items()}
            entry["location"] = f"{node.location.path}:{node.location.line}"
        if isinstance(node, ir.MapNode):
            entry["mapped"] = list(node.mapped)
        about[node.id] = entry
    return {"graph": layout(spec), "nodes": about}


def node_json(record: ir.NodeRecord, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    """A node record as the API serves it (times in epoch seconds, plus its duration and any
    output previews)."""
    data = record.model_dump(mode="json")
    data["outputs"] = outputs
    data["duration"] = (
        None
        if record.started is None or record.finished is None
        else round(record.finished - record.started, 3)
    )
    return data


def _log_json(record: ir.NodeRecord | None, text: str | None) -> dict[str, Any]:
    location = None if record is None or record.logs is None else record.logs.model_dump(mode="json")
    return {"location": location, "text": text}


@dataclass
class LocalSource:
    """Runs recorded in ``$STRATOFLOW_HOME/runs.sqlite`` (local and ``--sandbox`` runs)."""

    home: Path
    _history: RunHistory | None = field(default=None, init=False, repr=False)

    @property
    def history(self) -> RunHistory:
        if self._history is None:
            from stratoflow.backends.local import RunHistory  # noqa: PLC0415 - the runner's imports, on use

            self._history = RunHistory(self.home / "runs.sqlite")
        return self._history

    def label(self) -> str:
        return f"local runs in {self.home}"

    def _summary(self, record: RunRecord) -> dict[str, Any]:
        return _summary(
            record.run_id,
            record.workflow,
            record.status,
            record.started,
            record.finished,
            backend=record.backend,
            error=record.error,
        )

    def runs(self, limit: int) -> list[dict[str, Any]]:
        return [self._summary(record) for record in self.history.list(limit)]

    def _record(self, run_id: str) -> RunRecord | None:
        found = self.history.get(run_id)
        # A prefix is fine on the command line; a page's address names one run exactly.
        return found if found is not None and found.run_id == run_id else None

    def run(self, run_id: str) -> dict[str, Any] | None:
        record = self._record(run_id)
        if record is None:
            return None
        return {
            **self._summary(record),
            "ref": record.ref,
            "outputs": record.outputs,
            "traceback": None,  # a local run's traceback is in its failed node's record
            "skipped": list(record.skipped),
            "console_url": None,
            "spec": _spec_json(_records.local_spec(self.history, run_id, record.ref)),
        }

    def nodes(self, run_id: str) -> list[dict[str, Any]] | None:
        if self._record(run_id) is None:
            return None
        outputs = self.history.outputs(run_id)
        return [
            node_json(
                record,
                _records.output_previews(outputs[record.node])
                if record.item is None and record.node in outputs
                else _records.cached_outputs(self.home, record.cache_key),
            )
            for record in _records.local_nodes(self.history, run_id)
        ]

    def logs(self, run_id: str, node: str, item: int | None) -> dict[str, Any] | None:
        if self._record(run_id) is None:
            return None
        found = [r for r in _records.local_nodes(self.history, run_id) if r.node == node and r.item == item]
        if not found:
            return None
        return _log_json(found[0], _records.read_log(found[0]))


def console_url(region: str, execution_arn: str) -> str:
    """The Step Functions console's page of one execution (the console's public address pattern)."""
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


@dataclass
class RemoteSource:
    """Executions of a deployed stack, read through ``stratoflow.client``."""

    client: Client
    stack: str = "Stratoflow"
    cloudwatch: Any = None  # a CloudWatch Logs client (boto3 "logs"), for the nodes' logs
    _specs: dict[str, ir.WorkflowSpec] = field(default_factory=dict, init=False, repr=False)

    def _region(self) -> str:
        return str(self.client.sfn.meta.region_name)

    def label(self) -> str:
        return f"stack {self.stack} in {self._region()}"

    def runs(self, limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for workflow, arn in sorted(self.client.state_machines.items()):
            listed = self.client.sfn.list_executions(stateMachineArn=arn, maxResults=limit)["executions"]
            for execution in listed:
                stopped = execution.get("stopDate")
                rows.append(
                    _summary(
                        execution["name"],
                        workflow,
                        execution["status"],
                        execution["startDate"].timestamp(),
                        None if stopped is None else stopped.timestamp(),
                        backend="remote",
                        error=None,
                    )
                )
        return sorted(rows, key=lambda row: row["started"] or 0.0, reverse=True)[:limit]

    def _find(self, run_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """(workflow, state machine ARN, described execution) of the execution named ``run_id``."""
        for workflow, machine_arn in sorted(self.client.state_machines.items()):
            arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
            try:
                described = self.client.sfn.describe_execution(executionArn=arn)
            except self.client.sfn.exceptions.ExecutionDoesNotExist:
                continue
            return workflow, machine_arn, dict(described)
        return None

    def _spec(self, machine_arn: str) -> ir.WorkflowSpec | None:
        # The deployed definition names the IR it was compiled from (as `executions show --remote` reads it).
        definition = self.client.sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
        key = ir.protocol.spec_key_in_comment(json.loads(definition).get("Comment", ""))
        if not key:
            return None
        if key not in self._specs:  # spec keys are content hashes: one read per spec, ever
            body = self.client.s3.get_object(Bucket=self.client.bucket, Key=key)["Body"].read()
            self._specs[key] = ir.WorkflowSpec.model_validate_json(body)
        return self._specs[key]

    def run(self, run_id: str) -> dict[str, Any] | None:
        found = self._find(run_id)
        if found is None:
            return None
        workflow, machine_arn, described = found
        spec = self._spec(machine_arn)
        outputs, error, traceback = None, described.get("error"), None
        if spec is not None and described["status"] != "RUNNING":
            from stratoflow.client import Execution  # noqa: PLC0415

            execution = Execution(client=self.client, spec=spec, run_id=run_id, arn=described["executionArn"])
            try:
                # On a finished execution wait() returns at once, or raises the error `run --remote` prints.
                outputs = json.loads(json.dumps(execution.wait(timeout=0).outputs(), default=str))
            except TaskFailedError as exc:
                error, traceback = str(exc), exc.traceback_text
            except SdkError as exc:
                error = str(exc)
        stopped = described.get("stopDate")
        return {
            **_summary(
                run_id,
                workflow,
                described["status"],
                described["startDate"].timestamp(),
                None if stopped is None else stopped.timestamp(),
                backend="remote",
                error=error,
            ),
            "traceback": traceback,
            "ref": None if spec is None else spec.ref,
            "outputs": outputs,
            "skipped": [],
            "console_url": console_url(self._region(), described["executionArn"]),
            "spec": _spec_json(spec),
        }

    def nodes(self, run_id: str) -> list[dict[str, Any]] | None:
        found = self._find(run_id)
        if found is None:
            return None
        # The runner's records, completed from the execution (skipped, cut-off, never-run nodes),
        # with the outputs of the nodes that stored them (one listing, then one read per node).
        from stratoflow.aws import S3OutputStore  # noqa: PLC0415 - remote runs only

        store = S3OutputStore(self.client.s3, self.client.bucket, found[0], run_id)
        stored = store.completed_nodes()
        return [
            node_json(
                r,
                _records.output_previews(store.read_outputs(r.node))
                if r.item is None and r.node in stored
                else None,
            )
            for r in self.client.node_records(run_id)
        ]

    def logs(self, run_id: str, node: str, item: int | None) -> dict[str, Any] | None:
        run = self._find(run_id)
        if run is None:
            return None
        records = _records.remote_nodes(self.client.s3, self.client.bucket, run[0], run_id)
        found = [r for r in records if r.node == node and r.item == item]
        if not found:
            return None
        return _log_json(found[0], _records.read_cloudwatch_log(self.cloudwatch, found[0]))
