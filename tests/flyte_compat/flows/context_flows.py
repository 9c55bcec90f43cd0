"""Tasks that read ``current_context()`` as Flyte's documentation writes them.

``RECLAIM`` arms the Spot test: while set, the first attempt of ``resumable`` that has saved a
checkpoint has its emulated container reclaimed (a test sets it for the emulated run only).
"""

import os
import typing
from pathlib import Path

import stratoflow
from stratoflow import ActorEnvironment, Resources, current_context, dynamic, map_task, task, workflow
from stratoflow.exceptions.user import FlyteRecoverableException
from stratoflow.types.file import FlyteFile

RECLAIM: set[str] = set()


@task
def execution_info() -> typing.Tuple[str, str, str]:
    execution_id = current_context().execution_id
    return execution_id.project, execution_id.domain, execution_id.name


@task
def write_scratch(text: str) -> typing.Tuple[FlyteFile, str]:
    working_dir = current_context().working_directory
    local_file = os.path.join(working_dir, "note.txt")
    with open(local_file, "w") as f:
        f.write(text)
    current_context().logging.info(f"wrote {local_file}")
    return FlyteFile(path=local_file), working_dir


@task
def read_note(note: FlyteFile) -> str:
    with open(note) as f:
        return f.read()


@workflow
def context_wf(text: str = "hello") -> typing.Tuple[str, str, str, str, str]:
    project, domain, name = execution_info()
    note, working_dir = write_scratch(text=text)
    return project, domain, name, read_note(note=note), working_dir


@task
def db_password() -> str:
    return current_context().secrets.get("db", "password")


@workflow
def secret_wf() -> str:
    return db_password()


# A checkpoint written by a failed attempt is what the next attempt starts from.
@task(retries=1)
def count_on(start: int) -> typing.Tuple[int, int]:
    cp = stratoflow.current_context().checkpoint
    if not cp.prev_exists():
        cp.write(str(start + 10).encode())
        raise FlyteRecoverableException("first attempt: saved a checkpoint, then failed")
    return int(cp.read().decode()) + 1, current_context().attempt


@workflow
def resume_wf(start: int = 5) -> typing.Tuple[int, int]:
    return count_on(start=start)


# An interruptible Fargate task: a Spot reclaim, then the on-demand attempt resumes.
@task(requests=Resources(cpu=4, mem="16Gi"), interruptible=True)
def resumable(steps: int) -> typing.Tuple[int, int]:
    ctx = current_context()
    restore_to = Path(ctx.working_directory) / "state"
    restore_to.mkdir()
    restored = ctx.checkpoint.restore(restore_to)
    done = int((restored / "done.txt").read_text()) if restored else 0
    state = Path(ctx.working_directory) / "save"
    state.mkdir(exist_ok=True)
    for step in range(done, steps):
        (state / "done.txt").write_text(str(step + 1))
        ctx.checkpoint.save(state)
        if step + 1 == steps // 2 and "resumable" in RECLAIM:
            RECLAIM.discard("resumable")
            from stratoflow.testing import ContainerReclaimed

            raise ContainerReclaimed(f"reclaimed after step {step + 1}")
    return done, ctx.attempt


@workflow
def spot_wf(steps: int = 6) -> typing.Tuple[int, int]:
    return resumable(steps=steps)


# Map items (in worker processes) and actor tasks know their run and node too.
@task
def item_context(x: int) -> str:
    ctx = current_context()
    return f"{ctx.execution_id.name}/{ctx.node}/{x}"


@workflow
def map_context_wf(xs: typing.List[int]) -> typing.List[str]:
    return map_task(item_context, processes=True)(x=xs)


warm = ActorEnvironment(name="context-warm", replica_count=1, ttl_seconds=30)


@warm.task
def actor_context(x: int) -> str:
    return item_context(x=x)


@workflow
def actor_context_wf(x: int = 1) -> str:
    return actor_context(x=x)


# Not a FlyteRecoverableException: Flyte would not retry it; stratoflow does (see the README).
@task(retries=2)
def stubborn(attempts_file: str) -> int:
    path = Path(attempts_file)
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    raise ValueError(f"attempt {attempt}: always fails")


@workflow
def stubborn_wf(attempts_file: str) -> int:
    return stubborn(attempts_file=attempts_file)


# The tasks a @dynamic runs belong to the execution that ran the dynamic.
@dynamic
def fan_out(n: int) -> typing.List[str]:
    name = current_context().execution_id.name
    return [item_context(x=i) for i in range(n)] + [f"{name}/fan_out"]


@workflow
def dynamic_context_wf(n: int = 2) -> typing.List[str]:
    return fan_out(n=n)
