"""Running a node on AWS: the event the state machine sends, and the stores it runs against.

The Lambda handler and the Fargate container entrypoint are thin shells around
:func:`run_node_event`; all behaviour lives in the shared runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from stratoflow import ir
from stratoflow.aws import DynamoCacheStore, S3BlobStore, S3OutputStore
from stratoflow.errors import ConfigError, TaskFailedError
from stratoflow.runtime._dynamic import (
    DAG_BATCH,
    check_remote_graph,
    dynamic_cache_key,
    finish_dynamic,
    plan_dynamic,
    ready_nodes,
    run_graph_node,
    sub_run_id,
)
from stratoflow.runtime._map import gather_map, prepare_map, run_map_items
from stratoflow.runtime._runner import NodeContext, lookup_node_cache, run_node

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

__all__ = ["AwsRunnerEnv", "NodeEvent", "RunnerSettings", "run_node_event", "step_functions_error"]


class NodeEvent(BaseModel):
    """What a state machine sends the runner: which execution, which IR, which node."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run: str
    spec: str
    node: str
    mode: Literal[
        "run",
        "cache_check",
        "map_prepare",
        "map_items",
        "map_gather",
        "dynamic_plan",
        "dynamic_finish",
        "dag_next",
        "dag_run",
    ] = "run"
    items: list[int] | None = None  # map_items: the batch of item indices (ItemBatcher's Items)
    sub_run: str | None = None  # dynamic_finish: the sub-workflow's run id (from dynamic_plan)
    sub_spec: str | None = None  # dynamic_finish: the sub-workflow's IR key (from dynamic_plan)


@dataclass(frozen=True)
class RunnerSettings:
    """Runner settings from the environment (read per invocation, never at import time)."""

    bucket: str
    cache_table: str
    cache_ttl_seconds: int | None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RunnerSettings:
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in ("STRATOFLOW_BUCKET", "STRATOFLOW_CACHE_TABLE") if not env.get(name)]
        if missing:
            raise ConfigError(f"runner settings missing from the environment: {', '.join(missing)}")
        ttl_days = env.get("STRATOFLOW_CACHE_TTL_DAYS", "")
        try:
            ttl = int(float(ttl_days) * 86_400) if ttl_days else None
        except ValueError as exc:
            raise ConfigError(f"STRATOFLOW_CACHE_TTL_DAYS must be a number, got {ttl_days!r}") from exc
        return cls(
            bucket=env["STRATOFLOW_BUCKET"], cache_table=env["STRATOFLOW_CACHE_TABLE"], cache_ttl_seconds=ttl
        )


@dataclass(frozen=True)
class AwsRunnerEnv:
    """The clients and settings a node runs with."""

    s3: S3Client
    dynamodb: DynamoDBClient
    settings: RunnerSettings


_SPECS: dict[tuple[str, str], ir.WorkflowSpec] = {}
_SPECS_LOCK = threading.Lock()


def load_spec(env: AwsRunnerEnv, key: str) -> ir.WorkflowSpec:
    """The IR stored at ``key`` (content-addressed, so it is cached for the process lifetime)."""
    cache_key = (env.settings.bucket, key)
    with _SPECS_LOCK:
        spec = _SPECS.get(cache_key)
    if spec is None:
        body = env.s3.get_object(Bucket=env.settings.bucket, Key=key)["Body"].read()
        spec = ir.WorkflowSpec.model_validate_json(body)
        with _SPECS_LOCK:
            _SPECS[cache_key] = spec
    return spec


def node_context(env: AwsRunnerEnv, run_id: str, spec: ir.WorkflowSpec) -> NodeContext:
    blobs = S3BlobStore(env.s3, env.settings.bucket)
    return NodeContext(
        run_id=run_id,
        spec=spec,
        blobs=blobs,
        outputs=S3OutputStore(env.s3, env.settings.bucket, run_id),
        cache=DynamoCacheStore(
            env.dynamodb, env.settings.cache_table, blobs=blobs, ttl_seconds=env.settings.cache_ttl_seconds
        ),
    )


def run_node_event(event: NodeEvent, env: AwsRunnerEnv) -> dict[str, Any]:
    """Run (or, in ``cache_check`` mode, only look up) one node; the small result a state keeps."""
    spec = load_spec(env, event.spec)
    ctx = node_context(env, event.run, spec)
    if event.mode == "cache_check":
        return {"node": event.node, "hit": lookup_node_cache(ctx, event.node)}
    if event.mode == "map_prepare":
        return {"node": event.node, "count": prepare_map(ctx, event.node)}
    if event.mode == "map_items":
        results = run_map_items(ctx, event.node, event.items or [])
        return {
            "node": event.node,
            "items": len(results),
            "failed": sum(r.error is not None for r in results.values()),
        }
    if event.mode == "map_gather":
        gather_map(ctx, event.node)
        return {"node": event.node}
    if event.mode in _DYNAMIC_MODES:
        return _DYNAMIC_MODES[event.mode](event, env, ctx)
    result = run_node(ctx, event.node)
    return {"node": event.node, "cache_hit": result.cache_hit}


def _dynamic_plan(event: NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> dict[str, Any]:
    plan = plan_dynamic(ctx, event.node)
    sub = sub_run_id(event.run, event.node)
    if plan.cached is not None:
        ctx.outputs.write_outputs(event.node, plan.cached)
        return {"node": event.node, "hit": True, "run": sub, "spec": ""}
    assert plan.spec is not None  # noqa: S101 - a miss always carries the sub-workflow
    check_remote_graph(plan.spec, event.node)
    body = json.dumps(plan.spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
    key = f"dynamic-specs/{plan.spec.name}/{hashlib.sha256(body).hexdigest()[:16]}.json"
    env.s3.put_object(Bucket=env.settings.bucket, Key=key, Body=body, ContentType="application/json")
    S3OutputStore(env.s3, env.settings.bucket, sub).write_inputs(plan.inputs)
    return {"node": event.node, "hit": False, "run": sub, "spec": key}


def _dynamic_finish(event: NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> dict[str, Any]:
    if not (event.sub_run and event.sub_spec):
        raise ConfigError("dynamic_finish needs sub_run and sub_spec (from dynamic_plan)")
    sub = node_context(env, event.sub_run, load_spec(env, event.sub_spec))
    finish_dynamic(ctx, event.node, sub, key=dynamic_cache_key(ctx, event.node))
    return {"node": event.node}


def _dag_next(event: NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> dict[str, Any]:
    done = S3OutputStore(env.s3, env.settings.bucket, event.run).completed_nodes()
    nodes, finished = ready_nodes(ctx.spec, done, limit=DAG_BATCH)
    return {"node": "", "nodes": nodes, "done": finished}


def _dag_run(event: NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> dict[str, Any]:
    return {"node": event.node, "cache_hit": run_graph_node(ctx, event.node)}


_DYNAMIC_MODES: dict[str, Callable[[NodeEvent, AwsRunnerEnv, NodeContext], dict[str, Any]]] = {
    "dynamic_plan": _dynamic_plan,
    "dynamic_finish": _dynamic_finish,
    "dag_next": _dag_next,
    "dag_run": _dag_run,
}


def step_functions_error(exc: TaskFailedError) -> Exception:
    """An exception whose class name is the user's exception name, so Step Functions' ``Error``
    (Lambda's ``errorType``) names it, and whose message is a JSON cause with the node id."""
    name = exc.error_type if exc.error_type.isidentifier() else "TaskFailed"
    error_class = type(name, (Exception,), {"__module__": "stratoflow.user"})
    cause = {"error": exc.error_type, "message": str(exc), "node": exc.node, "attempt": exc.attempt}
    error: Exception = error_class(json.dumps(cause, sort_keys=True))
    return error
