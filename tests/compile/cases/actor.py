"""Actor tasks (``@env.task``): an actor task node and an actor map over the same environment.

Each node ensures the environment's workers (``actor_ensure``), then sends its event to the
environment's SQS queue with ``.waitForTaskToken`` and ``HeartbeatSeconds``; a lost worker
(``States.HeartbeatTimeout``) goes back through the ensure step. The cached task checks its
cache first, as a container task does; the map's STANDARD children each send one batch.
"""

from stratoflow.define import ActorEnvironment, map_task, workflow

scorers = ActorEnvironment(name="scorers", replica_count=2, ttl_seconds=60, interruptible=True)


@scorers.task(cache=True, cache_version="1", retries=2)
def setup(n: int) -> list[int]:
    return list(range(n))


@scorers.task
def score(x: int) -> int:
    return 3 * x


@workflow
def actor(n: int) -> list[int]:
    xs = setup(n=n)
    scored: list[int] = map_task(score, concurrency=4)(x=xs)
    return scored


WORKFLOW = actor
