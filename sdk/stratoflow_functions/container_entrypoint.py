"""The Fargate container entrypoint: run the node its environment names (``protocol.container_event``).

A non-zero exit makes ``ecs:runTask.sync`` fail the state with ``States.TaskFailed``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping

import boto3  # type: ignore[import-untyped]

from stratoflow.errors import SdkError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.runtime.aws import AwsRunnerEnv, RunnerSettings, run_node_event


def run(environ: Mapping[str, str]) -> int:
    """Run one node with settings from ``environ``; returns the process exit code."""
    try:
        event = protocol.container_event(environ)
        settings = RunnerSettings.from_env(dict(environ))
    except KeyError as exc:
        print(json.dumps({"error": "ConfigError", "message": f"missing {exc.args[0]}"}), file=sys.stderr)
        return 2
    except SdkError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), file=sys.stderr)
        return 2
    env = AwsRunnerEnv(s3=boto3.client("s3"), dynamodb=boto3.client("dynamodb"), settings=settings)
    try:
        result = run_node_event(event, env)
    except TaskFailedError as exc:
        cause = protocol.FailureCause(error=exc.error_type, message=str(exc), node=exc.node)
        print(cause.to_json(), file=sys.stderr)
        if exc.traceback_text:
            print(exc.traceback_text, file=sys.stderr)
        return 1
    print(json.dumps(result.model_dump(mode="json")), file=sys.stderr)
    return 0


def _stop(signum: int, frame: object) -> None:
    # ECS sends SIGTERM before it stops a task (two minutes ahead for a Spot reclaim). As
    # SystemExit, it unwinds through the runner, which stores a map batch's finished items.
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
