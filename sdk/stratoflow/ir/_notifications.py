"""IR of notifications: who hears of which terminal phases of a run, and how (a launch plan's or a
workflow's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from stratoflow.ir._record import Record

__all__ = ["TERMINAL_PHASES", "NotificationSpec", "Phase"]

Phase = Literal["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
"""The terminal execution phases a notification may name (Flyte's), spelled as Step Functions
spells the matching execution statuses."""

TERMINAL_PHASES: tuple[Phase, ...] = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


@dataclass(frozen=True, kw_only=True)
class NotificationSpec(Record):
    """Who hears of which terminal phases: ``channel`` says how Flyte would deliver it (email,
    Slack or PagerDuty through their email integrations: every one of those is an email here), or
    ``webhook``: an HTTPS POST to the URL in the Secrets Manager secret ``stratoflow/webhooks/<webhook>``
    (never in code or the template)."""

    channel: Literal["email", "slack", "pagerduty", "webhook"]
    phases: tuple[Phase, ...]
    recipients: tuple[str, ...] = ()
    webhook: str | None = None

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        # Dropped when unset, so email notifications keep their bytes.
        if data.get("webhook") is None:
            data.pop("webhook", None)
        return data
