"""A cached task that fits Lambda: the cache lookup happens inside the runner (one state)."""

from stratoflow.define import task, workflow


@task(cache=True, cache_version="2")
def lookup(key: str) -> str:
    return key.upper()


@workflow
def lambda_cache(key: str) -> str:
    return lookup(key=key)


WORKFLOW = lambda_cache
