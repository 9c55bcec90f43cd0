"""A small, honest evaluator of a synthesized template's identity policies (moto enforces no IAM).

It reads every ``AWS::IAM::Policy`` attached to a role and answers "may this role do ``action`` on
``resource``?" the way IAM's identity-policy evaluation does for Allow/Deny statements: action
and resource patterns with ``*`` and ``?``, an explicit Deny wins. CloudFormation intrinsics are
rendered to placeholders (``Ref X`` -> ``<X>``, ``GetAtt X.Arn`` -> ``<X.Arn>``), and the ARNs a
test asks about are built the same way, so a pattern matches exactly what it would match once
deployed.

Conditions: ``ForAllValues:StringLike`` on ``dynamodb:LeadingKeys`` is evaluated against the
request's leading keys. Any other condition is taken as met, which only ever makes a statement
grant more: a request this evaluator denies is denied by IAM too, whatever the other conditions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Policies", "Request", "render"]


def render(value: Any) -> str:
    """A resource value as a string: CloudFormation intrinsics become ``<...>`` placeholders."""
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
            return str(separator).join(render(part) for part in parts)
        if function == "Fn::Sub":
            return str(args if isinstance(args, str) else args[0])
    raise ValueError(f"cannot render {value!r}")


def _glob(pattern: str) -> re.Pattern[str]:
    """An IAM pattern (``*`` any run of characters, ``?`` one) as a full-match regex."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _matches(patterns: str | Sequence[str], value: str, *, ignore_case: bool = False) -> bool:
    listed = [patterns] if isinstance(patterns, str) else list(patterns)
    if ignore_case:
        return any(_glob(p.lower()).fullmatch(value.lower()) for p in listed)
    return any(_glob(p).fullmatch(value) for p in listed)


@dataclass(frozen=True)
class Request:
    """One API call: its action, its resource ARN (rendered) and the DynamoDB leading keys it names."""

    action: str
    resource: str
    leading_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def applies(self, request: Request) -> bool:
        return (
            _matches(self.actions, request.action, ignore_case=True)
            and _matches(self.resources, request.resource)
            and self._conditions_met(request)
        )

    def _conditions_met(self, request: Request) -> bool:
        for operator, keys in self.conditions.items():
            for key, expected in keys.items():
                if key == "dynamodb:LeadingKeys":
                    if operator != "ForAllValues:StringLike":
                        raise ValueError(f"unsupported LeadingKeys operator {operator}")
                    patterns = [expected] if isinstance(expected, str) else list(expected)
                    # ForAllValues over no values is true in IAM: a request naming no key passes.
                    if not all(_matches(patterns, k) for k in request.leading_keys):
                        return False
                # Any other condition is taken as met (see the module docstring).
        return True


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(render(v) for v in (value if isinstance(value, list) else [value]))


class Policies:
    """The identity policies of every role of one template."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.resources: Mapping[str, Any] = template["Resources"]
        self.by_role: dict[str, list[_Statement]] = {}
        for value in self.resources.values():
            if value["Type"] != "AWS::IAM::Policy":
                continue
            properties = value["Properties"]
            statements = [self._statement(s) for s in properties["PolicyDocument"]["Statement"]]
            for role in properties.get("Roles", []):
                self.by_role.setdefault(role["Ref"], []).extend(statements)
        for name, value in self.resources.items():
            if value["Type"] == "AWS::IAM::Role":
                for inline in value["Properties"].get("Policies", []):
                    self.by_role.setdefault(name, []).extend(
                        self._statement(s) for s in inline["PolicyDocument"]["Statement"]
                    )

    @staticmethod
    def _statement(raw: Mapping[str, Any]) -> _Statement:
        if "NotAction" in raw or "NotResource" in raw:
            raise ValueError(f"NotAction/NotResource is not evaluated here: {raw}")
        return _Statement(
            effect=raw["Effect"],
            actions=_as_tuple(raw["Action"]),
            resources=_as_tuple(raw["Resource"]),
            conditions=raw.get("Condition", {}),
        )

    def roles(self) -> list[str]:
        return sorted(k for k, v in self.resources.items() if v["Type"] == "AWS::IAM::Role")

    def statements(self, role: str) -> list[_Statement]:
        return list(self.by_role.get(role, []))

    def allows(self, role: str, request: Request) -> bool:
        """IAM's answer for an identity policy: allowed by some statement, denied by none."""
        applying = [s for s in self.by_role.get(role, []) if s.applies(request)]
        return any(s.effect == "Allow" for s in applying) and not any(s.effect == "Deny" for s in applying)

    def granted(self, role: str, action: str) -> Iterator[str]:
        """Every resource pattern an Allow statement of ``role`` names for ``action`` (any condition)."""
        for statement in self.by_role.get(role, []):
            if statement.effect == "Allow" and _matches(statement.actions, action, ignore_case=True):
                yield from statement.resources
