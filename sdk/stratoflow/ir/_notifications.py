"""IR of notifications: who hears of which terminal phases of a run, and how (a launch plan's or a
workflow's)."""

# No ``from __future__ import annotations``: pydantic would compile and evaluate every field's
# annotation text when the class is made (a fifth of building the IR at a run's start); a name
# defined further down is quoted instead.

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

__all__ = ["TERMINAL_PHASES", "NotificationSpec", "Phase"]

Phase = Literal["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]
"""The terminal execution phases a notification may name (Flyte's), spelled as Step Functions
spells the matching execution statuses."""

TERMINAL_PHASES: tuple[Phase, ...] = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


class NotificationSpec(BaseModel):
    """Who hears of which terminal phases: ``channel`` says how Flyte would deliver it (email,
    Slack or PagerDuty through their email integrations: every one of those is an email here), or
    ``webhook``: an HTTPS POST to the URL in the Secrets Manager secret ``stratoflow/webhooks/<webhook>``
    (never in code or the template)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    channel: Literal["email", "slack", "pagerduty", "webhook"]
    phases: tuple[Phase, ...]
    recipients: tuple[str, ...] = ()
    webhook: str | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_webhook(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Dropped when unset, so email notifications keep their bytes.
        data: dict[str, Any] = handler(self)
        if data.get("webhook") is None:
            data.pop("webhook", None)
        return data
