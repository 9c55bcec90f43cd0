"""Acknowledge one cdk-nag finding on one construct, with its reason (cdk-nag 3 ``Validations`` API).

cdk-nag 3 names each wildcard finding by the resource as it renders it
(``AwsSolutions-IAM5[Resource::<Bucket1234.Arn>/runs/*]``) and has no prefix match, so
an acknowledgement must name that exact string. :func:`nag_resource` renders a CDK
token the same way, so the code names the resource it granted, not a logical id that
changes when a construct moves.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

__all__ = ["acknowledge", "nag_resource"]

_PACK = "AwsSolutions::AwsSolutions-"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, args),) = value.items()
        if function == "Ref":
            return f"<{args}>"
        if function == "Fn::GetAtt":
            return f"<{args[0]}.{args[1]}>"
        if function == "Fn::Join":
            separator, parts = args
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} the way cdk-nag does")


def nag_resource(scope: IConstruct, value: str) -> str:
    """How cdk-nag prints ``value`` (a string with CDK tokens) in a finding id."""
    return _render(Stack.of(scope).resolve(value))


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    """Acknowledge AwsSolutions ``rule`` (``"IAM5"``) on ``scope`` and its children.

    Args:
        scope: The narrowest construct holding the finding.
        rule: The rule, without the pack prefix.
        reason: Why the finding is acceptable (shown in the validation report).
        finding: The bracketed detail, e.g. ``"Resource::*"``; ``None`` for rules without one.
    """
    suffix = f"[{finding}]" if finding else ""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_PACK}{rule}{suffix}", reason=reason))
