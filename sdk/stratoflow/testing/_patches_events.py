"""Deliver EventBridge events to Lambda targets, so S3 → EventBridge → Lambda runs in-process.

moto 5.2.5's ``Rule.send_to_targets`` knows log groups, archives, SQS, event buses and
API destinations; any other target, a Lambda function included, raises
``NotImplementedError: Expr not defined for <class 'moto.events.models.Rule'>`` (and stops
delivery to the rule's remaining targets). ``PutEvents`` surfaces the error; S3's
EventBridge path swallows it, so an upload silently starts nothing (moto-findings §4).
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from moto.awslambda.utils import get_backend
from moto.events.models import Rule
from moto.utilities.arns import parse_arn

from stratoflow.testing._patching import Patcher, Undo, install_patch

__all__ = ["install_events_to_lambda"]

_LOG = logging.getLogger(__name__)
_REWRITES = ("Input", "InputPath", "InputTransformer")


def _invoke(rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> None:
    """Invoke the target function asynchronously (as EventBridge does) with the event as is."""
    rewrites = [key for key in _REWRITES if target.get(key)]
    if rewrites:
        raise NotImplementedError(f"install_events_to_lambda delivers the event as is, not {rewrites}")
    arn = parse_arn(target["Arn"])
    function = get_backend(arn.account or rule.account_id, arn.region or rule.region_name).get_function(
        target["Arn"]
    )
    # The in-process handler (install_lambda_inprocess) runs now, synchronously; a failure
    # becomes a function error, which an asynchronous invocation does not report back.
    function.invoke(json.dumps(event, default=str), {"x-amz-invocation-type": "Event"}, {})


def install_events_to_lambda() -> Undo:
    """Deliver events matched by a rule to its Lambda targets.

    moto fix: a Lambda target raises ``NotImplementedError`` in ``Rule.send_to_targets``.
    The patch invokes each Lambda target with the matched event (``Input``, ``InputPath``
    and ``InputTransformer`` are not emulated and raise), then lets moto deliver to the
    rule's other targets. Rules without a Lambda target keep moto's behaviour.
    """

    def apply(p: Patcher) -> None:
        original = Rule.send_to_targets

        def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
            lambdas = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
            if not lambdas or not self.event_pattern.matches_event(original_event):
                original(self, original_event, transform_input)
                return
            for target in lambdas:
                _LOG.debug("rule %s delivers to %s", self.name, target["Arn"])
                _invoke(self, target, dict(original_event))
            others = [t for t in self.targets if t not in lambdas]
            if others:
                rest = copy.copy(self)
                rest.targets = others
                original(rest, original_event, transform_input)

        p.setattr(Rule, "send_to_targets", send_to_targets)

    return install_patch("install_events_to_lambda", apply)
