"""An actor worker: a Fargate container that runs one environment's tasks from its queue until idle.

The loop: long-poll the environment's SQS queue (``protocol.ENV_ACTOR_QUEUE``); for each message
(:class:`protocol.ActorMessage`: a task token and a node event), delete it, run the event with
the runtime the container entrypoint uses (``stratoflow.runtime.aws.run_node_event``, which
loads only deployed specs), heartbeat the token while it runs, and answer with
``SendTaskSuccess`` (the mode's result) or ``SendTaskFailure`` (the error name and
``FailureCause`` JSON, exactly what the runner Lambda raises). After
``ENV_ACTOR_TTL_SECONDS`` without a message the worker exits 0, so an idle environment costs
nothing. SIGTERM (a Spot reclaim's two-minute warning, or a scale-in) stops it taking work: the
task in flight finishes if it can, and one it cannot finish stops heartbeating, so its state
times out (``States.HeartbeatTimeout``) and sends it to another worker.

A message is deleted before its task runs: a lost task is re-sent by the state machine with a
fresh token, never redelivered by SQS, so no task runs twice for one token.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from stratoflow.define import EnvironmentSecretStore
from stratoflow.errors import SdkError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.runtime.aws import AwsRunnerEnv, RunnerSettings, Where, run_node_event
from stratoflow_functions import container_entrypoint

__all__ = ["WorkerSettings", "main", "run"]

_MAX_POLL_SECONDS = 20  # SQS's longest long poll
_CLIENTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class WorkerSettings:
    """A worker's own settings (its task definition's environment)."""

    environment: str
    queue_url: str
    ttl_seconds: float
    heartbeat_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WorkerSettings:
        missing = [n for n in (protocol.ENV_ACTOR_NAME, protocol.ENV_ACTOR_QUEUE) if not environ.get(n)]
        if missing:
            raise KeyError(", ".join(missing))
        default_beat = protocol.ACTOR_HEARTBEAT_SECONDS / 3
        return cls(
            environment=environ[protocol.ENV_ACTOR_NAME],
            queue_url=environ[protocol.ENV_ACTOR_QUEUE],
            ttl_seconds=float(environ.get(protocol.ENV_ACTOR_TTL_SECONDS) or 100),
            heartbeat_seconds=float(environ.get(protocol.ENV_ACTOR_HEARTBEAT_SECONDS) or default_beat),
        )


@dataclass
class _Worker:
    settings: WorkerSettings
    runner: AwsRunnerEnv
    sqs: Any
    sfn: Any
    log: TextIO
    stop: threading.Event
    max_poll_seconds: int = _MAX_POLL_SECONDS
    clock: Callable[[], float] = time.monotonic
    tasks_run: int = field(default=0)

    def say(self, **fields: object) -> None:
        print(json.dumps({"worker": self.settings.environment, **fields}, default=str), file=self.log)

    def loop(self) -> None:
        idle_since = self.clock()
        while not self.stop.is_set():
            left = self.settings.ttl_seconds - (self.clock() - idle_since)
            if left <= 0:
                self.say(event="idle_exit", tasks=self.tasks_run)
                return
            received = self.sqs.receive_message(
                QueueUrl=self.settings.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=max(1, min(self.max_poll_seconds, int(left))),
            ).get("Messages", [])
            for message in received:
                if self.stop.is_set():  # stopping: leave it to another worker at once
                    self.sqs.change_message_visibility(
                        QueueUrl=self.settings.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                    continue
                self.sqs.delete_message(
                    QueueUrl=self.settings.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                self.handle(message["Body"])
                idle_since = self.clock()
        self.say(event="stopped", tasks=self.tasks_run)

    def handle(self, body: str) -> None:
        try:
            message = protocol.ActorMessage.model_validate_json(body)
        except ValueError as exc:  # no token to answer with: the state times out on its own
            self.say(event="bad_message", error=str(exc)[:500])
            return
        try:
            event = protocol.NodeEvent.model_validate(message.event)
        except ValueError as exc:
            self._answer(message.token, error="ConfigError", cause=f"actor worker: bad event: {exc}"[:30000])
            return
        try:  # a message that waited past HeartbeatSeconds was re-sent: its token is dead
            self.sfn.send_task_heartbeat(taskToken=message.token)
        except ClientError as exc:
            self.say(event="stale_message", node=event.node, error=exc.response["Error"]["Code"])
            return
        self.tasks_run += 1
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(message.token, beating), daemon=True)
        beat.start()
        try:
            result = run_node_event(event, self.runner)
        except TaskFailedError as exc:
            cause = protocol.FailureCause.of(exc)
            self.say(event="task_failed", node=event.node, error=exc.error_type)
            self._answer(message.token, error=protocol.error_name(exc.error_type), cause=cause.to_json())
            return
        except SdkError as exc:  # a bad spec or settings: the same one-line error a container prints
            self._answer(message.token, error=type(exc).__name__, cause=str(exc)[:30000])
            return
        finally:
            beating.set()
            beat.join()
        self.say(event="task_done", node=event.node, mode=event.mode.value)
        self._answer(message.token, output=result.model_dump_json())

    def _heartbeat(self, token: str, done: threading.Event) -> None:
        while not done.wait(self.settings.heartbeat_seconds):
            try:
                self.sfn.send_task_heartbeat(taskToken=token)
            except ClientError as exc:  # the state moved on (timed out): nobody waits for this task
                self.say(event="heartbeat_refused", error=exc.response["Error"]["Code"])
                return

    def _answer(self, token: str, *, output: str | None = None, error: str = "", cause: str = "") -> None:
        try:
            if output is not None:
                self.sfn.send_task_success(taskToken=token, output=output)
            else:
                self.sfn.send_task_failure(taskToken=token, error=error[:256], cause=cause)
        except ClientError as exc:  # timed out meanwhile: the task was re-sent to another worker
            self.say(event="answer_refused", error=exc.response["Error"]["Code"])


def _clients() -> tuple[Any, Any, Any, Any]:
    # boto3's default session is not thread-safe while it builds clients (the emulator runs
    # several workers as threads of one process).
    with _CLIENTS_LOCK:
        return (
            boto3.client("s3"),
            boto3.client("dynamodb"),
            boto3.client("sqs"),
            boto3.client("stepfunctions"),
        )


def run(
    environ: Mapping[str, str],
    *,
    log: TextIO | None = None,
    stop: threading.Event | None = None,
    max_poll_seconds: int = _MAX_POLL_SECONDS,
) -> int:
    """Serve tasks until idle for the TTL or ``stop`` is set; returns the process exit code.

    ``max_poll_seconds`` bounds one long poll, so a stop is noticed within it (the emulator
    stops its worker threads quickly with a short one).
    """
    log = sys.stderr if log is None else log
    scratch = environ.get("TMPDIR")
    if scratch and not (Path(scratch).is_dir() and os.access(scratch, os.W_OK | os.X_OK)):
        message = f"TMPDIR {scratch!r} is not a writable directory: is the scratch volume mounted?"
        print(json.dumps({"error": "ConfigError", "message": message}), file=log)
        return 2
    try:
        worker_settings = WorkerSettings.from_env(environ)
        runner_settings = RunnerSettings.from_env(dict(environ))
    except KeyError as exc:
        print(json.dumps({"error": "ConfigError", "message": f"missing {exc.args[0]}"}), file=log)
        return 2
    except (SdkError, ValueError) as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), file=log)
        return 2
    s3, dynamodb, sqs, sfn = _clients()
    worker = _Worker(
        settings=worker_settings,
        # The environment's secrets are in this container's environment (ECS put them there from
        # the worker task definition), as in a container task's: never fetched here.
        runner=AwsRunnerEnv(
            s3=s3,
            dynamodb=dynamodb,
            settings=runner_settings,
            where=Where(target="actor"),
            secrets=EnvironmentSecretStore(environ),
        ),
        sqs=sqs,
        sfn=sfn,
        log=log,
        stop=stop or threading.Event(),
        max_poll_seconds=max_poll_seconds,
    )
    worker.say(event="started")
    # The container's root filesystem is read-only: temp files go to the scratch volume.
    with container_entrypoint.temp_files_under(scratch):
        worker.loop()
    return 0


def main() -> None:
    stop = threading.Event()
    # SIGTERM: Fargate Spot's two-minute warning or ECS stopping the task. Stop taking work;
    # the task in flight keeps its heartbeat and finishes if the container lives long enough.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    sys.exit(run(os.environ, stop=stop))


if __name__ == "__main__":
    main()
