"""A workflow with no task nodes: it just passes its input through."""

from stratoflow.define import workflow


@workflow
def empty(x: int) -> int:
    return x


WORKFLOW = empty
