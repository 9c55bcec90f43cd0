"""A flaky task with retries and a timeout, on Lambda."""

from datetime import timedelta

from stratoflow.define import task, workflow


@task(retries=3, timeout=timedelta(minutes=5))
def flaky(x: int) -> int:
    return x


@workflow
def retries_timeout(x: int) -> int:
    return flaky(x=x)


WORKFLOW = retries_timeout
