"""What an execution produced, read back through the API, and definition placeholders."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stratoflow import errors

_PAYLOAD_FIELDS = ("input", "output", "parameters")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


@dataclass(frozen=True)
class ExecutionResult:
    """How one execution ended, read back through the Step Functions API.

    Attributes:
        execution_arn: the execution's ARN.
        status: SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
        output: the parsed execution output (``None`` unless SUCCEEDED).
        error: the Error name of a failed execution.
        cause: the Cause of a failed execution.
        events: the raw ``GetExecutionHistory`` events, oldest first.
        max_payload_bytes: the largest input/output/parameters string in any event, in
            UTF-8 bytes (compare with the 256 KiB Step Functions limit).
    """

    execution_arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(repr=False)
    max_payload_bytes: int

    @property
    def succeeded(self) -> bool:
        """Whether the execution SUCCEEDED."""
        return self.status == "SUCCEEDED"

    def events_of_type(self, event_type: str) -> list[dict[str, Any]]:
        """The history events whose ``type`` is ``event_type`` (e.g. ``"TaskFailed"``)."""
        return [e for e in self.events if e["type"] == event_type]


def max_payload_bytes(events: list[dict[str, Any]]) -> int:
    """The largest input/output/parameters string found in any ``*EventDetails`` of ``events``."""
    largest = 0
    for event in events:
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, dict):
                for name in _PAYLOAD_FIELDS:
                    value = details.get(name)
                    if isinstance(value, str):
                        largest = max(largest, len(value.encode()))
    return largest


def fill_placeholders(definition: str, substitutions: Mapping[str, str]) -> str:
    """Replace ``${Name}`` with ``substitutions[Name]``, as CDK's definitionSubstitutions do.

    Raises:
        errors.ConfigError: a placeholder has no substitution.
    """
    missing = sorted({m for m in _PLACEHOLDER.findall(definition) if m not in substitutions})
    if missing:
        raise errors.ConfigError(f"state machine definition has no substitution for: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition)
