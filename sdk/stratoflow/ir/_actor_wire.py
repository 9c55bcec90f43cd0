"""The actor part of the wire contract: the queue message, the ensure step's result, the pools.

An actor task's state sends its event, with the state's task token, as one SQS message
(:class:`ActorMessage`, built by :func:`actor_message_body`); a worker of the environment takes
it, runs the event as a container would, and answers with ``SendTaskSuccess`` (the mode's
result) or ``SendTaskFailure`` (the error name and :class:`FailureCause`, as the runner Lambda
reports them). The ensure step (``Mode.ACTOR_ENSURE``) starts workers from :class:`ActorPools`.
Spelled ``protocol.<name>`` (re-exported by ``ir._protocol``).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from stratoflow.ir._results import Result

__all__ = [
    "TASK_TOKEN",
    "ActorEnsureResult",
    "ActorMessage",
    "ActorPool",
    "ActorPools",
]

TASK_TOKEN: Final = "$$.Task.Token"  # noqa: S105 - a JSONPath, not a secret
"""The token of a ``.waitForTaskToken`` state's current try (a fresh one per try)."""


class ActorEnsureResult(Result):
    """What the ensure step did: how many workers of the environment it found, and started.

    ``running`` is -1 when another ensure step of the environment held the lock (it counted and
    started them; this one started none).
    """

    environment: str
    running: int
    started: int


class ActorMessage(BaseModel):
    """One queue message: the token to answer with and the event to run (``protocol.NodeEvent`` fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str
    event: dict[str, Any]


class ActorPool(BaseModel):
    """How the ensure step starts one environment's workers (``ecs:RunTask`` arguments).

    ``task_definition`` is the worker's (the only one the runner's role may run); ``spot``
    puts the workers on Fargate Spot (an interruptible environment). How many workers to keep
    is the environment's ``replica_count`` in the deployed spec, not here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cluster: str
    task_definition: str
    subnets: list[str]
    security_groups: list[str]
    spot: bool = False


class ActorPools(BaseModel):
    """Every environment's :class:`ActorPool`, by ``protocol.actor_slug`` of its name (``ENV_ACTORS``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pools: dict[str, ActorPool] = {}
