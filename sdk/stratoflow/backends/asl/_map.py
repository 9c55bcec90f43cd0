"""ASL states for a ``map_task`` node: prepare, a Distributed Map over item indices, gather.

The runner contract (``stratoflow.runtime._map``) splits a map node in three Lambda calls:

1. ``<node>__prepare`` (``Mode.MAP_PREPARE``) resolves the node's inputs, stores one input set
   per item, and writes ``protocol.map_items_key``: the bare indices ``[0..n-1]``.
2. ``<node>`` is a Distributed Map whose ``ItemReader`` reads that file from S3 and whose
   ``ItemBatcher`` hands each EXPRESS child execution the run id in ``BatchInput`` and
   the batch of indices in ``Items``. The child's one Task (``Mode.MAP_ITEMS``) runs those items, stores
   their results under the node's prefix and returns; its output is dropped
   (``OutputPath: null``), so what the Map collects is ``{}`` per batch, whatever the data.
3. ``<node>__gather`` (``Mode.MAP_GATHER``) assembles the list output in item order and
   enforces ``min_success_ratio`` over *items*.

So no item and no item result ever passes through a state payload: the largest payload
is the same for 10 items and for a million. Item failures are recorded by the runner and
never fail a batch, so ``ToleratedFailurePercentage`` only guards batches that crashed
(a Lambda timeout, an out-of-memory kill); the gather step is the real threshold.

The Map's child input carries the run id in ``BatchInput`` because inside a child,
``$$.Execution.Name`` is the *child's* name, not the run's.

A mapped task routed to a container (Fargate, Fargate Spot, AWS Batch, Batch Spot) keeps the
three steps, with STANDARD children (EXPRESS ones cannot wait on ``.sync``) that each run ONE
batch in ONE container (:func:`container_item_processor`): the single-task container states
(``_states.container_attempts``, the Spot/on-demand pattern included) with the batch's event
in the container environment. Container start-up takes tens of seconds, so the batch size is
chosen at run time by ``map_prepare`` from the item count (``runtime.container_batch_size``,
the rule is there), read by ``ItemBatcher.MaxItemsPerBatchPath``; the batch's
``TimeoutSecondsPath`` is its size times the task's per-item worst case.
"""

from __future__ import annotations

from typing import Any, Final

from stratoflow import ir, routing
from stratoflow.backends.asl._names import StateNames, sanitize
from stratoflow.backends.asl._states import (
    LAMBDA_INVOKE,
    TASK_RUNNER,
    NodeContext,
    container_attempts,
    restore_input,
    retry_lambda_service,
    runner_function,
)
from stratoflow.ir import protocol
from stratoflow.runtime._batching import (
    EXPRESS_MAX_SECONDS,
    default_batch_size,
    tolerated_failure_percentage,
)

__all__ = [
    "BATCH_RUN",
    "BATCH_TIMEOUT",
    "EXPRESS_MAX_SECONDS",
    "INPUT_WORKFLOW",
    "MAX_LABEL",
    "S3_GET_OBJECT",
    "container_item_processor",
    "default_batch_size",
    "items_key_format",
    "map_states",
    "runner_map_state",
    "spec_workflow_literal",
    "tolerated_failure_percentage",
]

State = dict[str, Any]

S3_GET_OBJECT: Final = "arn:aws:states:::s3:getObject"

MAX_LABEL: Final = 40
"""Longest Map ``Label`` (the Map Run's name suffix); CDK enforces 40 characters."""


def _format_literal(text: str) -> str:
    """Escape ``text`` for the literal part of a ``States.Format`` template."""
    out = text
    for char in ("\\", "'", "{", "}"):
        out = out.replace(char, "\\" + char)
    return out


def items_key_format(
    workflow: str | protocol.Path, node_id: str | protocol.Path, run: protocol.Path = protocol.EXECUTION_NAME
) -> str:
    """The ``States.Format`` expression for :func:`protocol.map_items_key` of this workflow, run and
    node (the workflow and node literals, or the paths they are read from at run time).

    Example:
        >>> items_key_format("wf", "map_double")
        "States.Format('runs/wf/{}/maps/map_double/items.json', $$.Execution.Name)"
        >>> items_key_format(protocol.Path("$.workflow"), protocol.Path("$.node"), protocol.Path("$.run"))
        "States.Format('runs/{}/{}/maps/{}/items.json', $.workflow, $.run, $.node)"
    """
    parts: list[str] = []
    paths: list[str] = []
    for part in (workflow, run, node_id):
        if isinstance(part, protocol.Path):
            parts.append("{}")
            paths.append(part.expr)
        else:
            # The layout's own literal parts hold no States.Format specials; names may.
            parts.append(_format_literal(part))
    return f"States.Format('{protocol.map_items_key(*parts)}', {', '.join(paths)})"


INPUT_WORKFLOW: Final = protocol.Path("$.workflow")
"""In the ``@dynamic`` interpreter: the workflow its input names (``InterpreterInput.workflow``)."""


def spec_workflow_literal(spec_key: str | protocol.Path) -> str | protocol.Path:
    """The workflow a compiled spec key names (``protocol.spec_workflow``), or, for a spec read at
    run time (the interpreter's), the path of the workflow its input names. The compiler only
    ever writes well-formed keys, so another is a bug here."""
    if isinstance(spec_key, protocol.Path):
        return INPUT_WORKFLOW
    workflow = protocol.spec_workflow(spec_key)
    if workflow is None:
        raise ValueError(f"not a spec key: {spec_key!r}")
    return workflow


BATCH_RUN: Final = protocol.Path("$.BatchInput.run")
"""Inside a map child: the run id the Map's ``BatchInput`` carries."""

BATCH_TIMEOUT: Final = "$.BatchInput.timeout"
"""Inside a container-map child: the batch's time limit (``TimeoutSecondsPath``)."""

_BATCH_ITEMS: Final = protocol.Path("States.JsonToString($.Items)")
_PREPARED: Final = "$.map"  # where a container map's prepare parks its MapPrepareResult


def container_item_processor(
    node: ir.MapNode,
    task: ir.TaskSpec,
    *,
    route: routing.Route,
    spec: str | protocol.Path,
    state_name: str,
    names: StateNames,
) -> State:
    """The ``ItemProcessor`` of a container map: one batch of items in one container.

    The child's input is ``{"Items": [indices], "BatchInput": {"run", "timeout"?}}``
    (what the Map's ``ItemBatcher`` builds), so the run id comes from :data:`BATCH_RUN`
    and, when the task declares a timeout, the batch's limit from :data:`BATCH_TIMEOUT`.
    The container runs ``map_items`` over ``$.Items`` (JSON in ``protocol.ENV_ITEMS``).
    The task's ``retries`` apply per item inside the container and also to the batch
    (an interrupted or crashed container); interruptible routes retry on Spot and run the
    last attempt on on-demand, as a single container task does.

    Args:
        node: The map node.
        task: The mapped task (routed to a container).
        route: Its route (``fargate``, ``fargate_spot``, ``batch``, ``batch_spot``).
        spec: The workflow IR's S3 key, or the path it is read from at run time.
        state_name: The batch state's name, claimed by the caller.
        names: The definition-wide name registry.
    """
    ctx = NodeContext(
        node=node,
        task=task,
        route=route,
        spec_key=spec,
        state_name=state_name,
        run=BATCH_RUN,
        items=_BATCH_ITEMS,
        timeout_path=BATCH_TIMEOUT if task.timeout_seconds else None,
    )
    states: dict[str, State] = {}
    for exit_ in container_attempts(ctx, names, states):
        # What the Map collects per batch: keep it at `{}` (the container's result is in S3).
        states[exit_]["OutputPath"] = None
        states[exit_]["End"] = True
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": state_name,
        "States": states,
    }


def _invoke(payload: State, retry: list[State], function: str = TASK_RUNNER) -> State:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": function, "Payload": payload},
        "ResultPath": None,
        "Retry": retry,
    }


def _lambda_item_processor(
    node_id: str | protocol.Path,
    spec: str | protocol.Path,
    items: str,
    run: protocol.Path = BATCH_RUN,
    function: str = TASK_RUNNER,
) -> State:
    item_state = _invoke(
        protocol.event_parameters(
            run=run,
            spec=spec,
            node=node_id,
            mode=protocol.Mode.MAP_ITEMS,
            items=protocol.Path("$.Items"),
        ),
        [retry_lambda_service()],
        function,
    )
    # The child's output is what the Map collects per batch: keep it at `{}`.
    item_state["OutputPath"] = None
    item_state["End"] = True
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": items,
        "States": {items: item_state},
    }


def _item_reader(workflow: str | protocol.Path, node_id: str | protocol.Path, run: protocol.Path) -> State:
    return {
        "Resource": S3_GET_OBJECT,
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {
            "Bucket": protocol.ref(protocol.Placeholder.DATA_BUCKET),
            "Key.$": items_key_format(workflow, node_id, run),
        },
    }


def runner_map_state(
    *,
    workflow: protocol.Path,
    run: protocol.Path,
    spec: protocol.Path,
    node: protocol.Path,
    settings: str,
    label: str,
) -> State:
    """A Lambda map's Distributed Map whose run, spec and node are all read from the state input
    (the ``@dynamic`` interpreter as a map runner: ``protocol.MapRun`` at ``settings``).

    The same children as a static Lambda map (EXPRESS, ``Mode.MAP_ITEMS`` over ``$.Items``), but
    ``BatchInput`` carries spec and node too, and the batch size, ``MaxConcurrency`` and
    ``ToleratedFailurePercentage`` come from ``settings`` (``map_prepare`` and ``dag_next`` set them
    from the rules a static map's are compiled from). The caller sets ``Next`` or ``End``.
    """
    batch = {
        "run": BATCH_RUN,
        "spec": protocol.Path("$.BatchInput.spec"),
        "node": protocol.Path("$.BatchInput.node"),
    }
    items = "map_items"
    return {
        "Type": "Map",
        "Label": sanitize(label, max_len=MAX_LABEL),
        "ItemReader": _item_reader(workflow, node, run),
        "ItemBatcher": {
            "MaxItemsPerBatchPath": f"{settings}.batch_size",
            "BatchInput": {"run.$": run.expr, "spec.$": spec.expr, "node.$": node.expr},
        },
        "MaxConcurrencyPath": f"{settings}.concurrency",
        "ToleratedFailurePercentagePath": f"{settings}.tolerated",
        "ItemProcessor": _lambda_item_processor(batch["node"], batch["spec"], items, batch["run"]),
        "ResultPath": None,
    }


def map_states(
    node: ir.MapNode,
    task: ir.TaskSpec,
    *,
    spec_key: str | protocol.Path,
    state_name: str,
    names: StateNames,
    route: routing.Route | None = None,
    run: protocol.Path = protocol.EXECUTION_NAME,
) -> tuple[str, dict[str, State], str]:
    """The chained states of a map node: returns (entry, states, exit).

    Only the Lambda transient errors are retried around prepare and gather: the task's
    ``retries`` apply per item inside the runner, and a gather that fails because too many
    items failed is final (retrying it would fail the same way).

    Args:
        node: The map node.
        task: The mapped task.
        spec_key: S3 key of the workflow IR, or the path it is read from at run time (a
            dynamic sub-graph's interpreter reads it from its input).
        state_name: The Map state's name (claimed by the caller: the node's own id).
        names: The definition-wide name registry.
        route: The mapped task's route; ``None`` or ``lambda`` gives EXPRESS children running
            batches in the runner Lambda, a container route STANDARD children running each
            batch in one container (:func:`container_item_processor`).
        run: Where the run id comes from (the execution's name at top level).
    """
    container = route is not None and route.target != "lambda"
    prepare = names.claim(state_name, suffix="__prepare")
    items = names.claim(state_name, suffix="__batch" if container else "__items")
    gather = names.claim(state_name, suffix="__gather")

    def payload(mode: protocol.Mode) -> State:
        return protocol.event_parameters(run=run, spec=spec_key, node=node.id, mode=mode)

    if route is not None and container:
        processor = container_item_processor(
            node, task, route=route, spec=spec_key, state_name=items, names=names
        )
        batch_input = {"run.$": run.expr}
        if task.timeout_seconds:
            batch_input["timeout.$"] = f"{_PREPARED}.batch_timeout"
        batcher: State = {"MaxItemsPerBatchPath": f"{_PREPARED}.batch_size", "BatchInput": batch_input}
    else:
        # The items run the task's code: on its image's function when it has one.
        processor = _lambda_item_processor(node.id, spec_key, items, function=runner_function(task))
        batcher = {"MaxItemsPerBatch": default_batch_size(node, task), "BatchInput": {"run.$": run.expr}}
    map_state: State = {
        "Type": "Map",
        "Label": sanitize(state_name, max_len=MAX_LABEL),
        "ItemReader": _item_reader(spec_workflow_literal(spec_key), node.id, run),
        "ItemBatcher": batcher,
        "ItemProcessor": processor,
        "ResultPath": None,
        "Next": gather,
    }
    if node.concurrency:
        map_state["MaxConcurrency"] = node.concurrency
    tolerated = tolerated_failure_percentage(node.min_success_ratio)
    if tolerated:
        map_state["ToleratedFailurePercentage"] = tolerated
    prepare_state = _invoke(payload(protocol.Mode.MAP_PREPARE), [retry_lambda_service()])
    prepare_state["Next"] = state_name
    gather_state = _invoke(payload(protocol.Mode.MAP_GATHER), [retry_lambda_service()])
    states = {prepare: prepare_state, state_name: map_state, gather: gather_state}
    if not container:
        return prepare, states, gather
    # The batch size is known once prepare has counted the items: it parks it in the
    # payload for the ItemBatcher, and a Pass restores the execution input after gather.
    prepare_state["ResultSelector"] = protocol.result_selector(
        protocol.Mode.MAP_PREPARE, "batch_size", "batch_timeout"
    )
    prepare_state["ResultPath"] = _PREPARED
    done = names.claim(state_name, suffix="__done")
    gather_state["Next"] = done
    states[done] = restore_input()
    return prepare, states, done
