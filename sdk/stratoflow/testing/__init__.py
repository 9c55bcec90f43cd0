"""Emulated-AWS test fixtures: moto 5.2.5 that really runs Step Functions, offline.

Importing this package imports moto and boto3, so nothing in ``stratoflow`` imports it;
tests do. The names below are the supported surface (pinned by a test): the sandboxes,
the emulator, a fake Lambda context, the results and errors they hand back (a Spot
reclaim the sandbox injects raises ``SpotInterruption``; user code raises
``ContainerReclaimed`` to reclaim its container mid-batch), and the
patches to install or uninstall. Everything else lives in private modules and may change.

Example:
    >>> from stratoflow.testing import EmulatedAws
    >>> with EmulatedAws() as aws:
    ...     machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    ...     arn = aws.create_state_machine("sm", machine)
    ...     aws.start_and_wait(arn, {"a": 1}).output
    {'a': 1}
"""

from __future__ import annotations

# First, before anything imports moto: moto's Batch models load only when Batch is used.
from stratoflow.testing import _moto_imports  # noqa: F401
from stratoflow.testing._execution import ExecutionResult
from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._moto_patches import (
    install_all,
    install_batch_inprocess,
    install_cfn_custom_resources,
    install_cfn_definition_substitutions,
    install_cfn_lambda_images,
    install_cfn_sfn_parser_backend,
    install_cfn_skip_unsupported,
    install_client_cache,
    install_definition_rewrites,
    install_early_stop_fix,
    install_ecs,
    install_ecs_inprocess,
    install_ecs_sync_failure,
    install_events_to_lambda,
    install_fast_timers,
    install_integration_normalisation,
    install_jsonata,
    install_jsonpath_fix,
    install_lambda_inprocess,
    install_map_tolerance,
    install_retry_sync_fix,
    install_runtime_error_capture,
    install_sfn_fixes,
    uninstall_all,
)
from stratoflow.testing._patches_ecs import ContainerReclaimed, SpotInterruption
from stratoflow.testing._patches_lambda import FakeLambdaContext
from stratoflow.testing._patching import Undo
from stratoflow.testing._sandbox import Sandbox
from stratoflow.testing._stack import StackDeployError, StackSandbox

__all__ = [
    "ContainerReclaimed",
    "EmulatedAws",
    "ExecutionResult",
    "FakeLambdaContext",
    "Sandbox",
    "SpotInterruption",
    "StackDeployError",
    "StackSandbox",
    "Undo",
    "install_all",
    "install_batch_inprocess",
    "install_cfn_custom_resources",
    "install_cfn_definition_substitutions",
    "install_cfn_lambda_images",
    "install_cfn_sfn_parser_backend",
    "install_cfn_skip_unsupported",
    "install_client_cache",
    "install_definition_rewrites",
    "install_early_stop_fix",
    "install_ecs",
    "install_ecs_inprocess",
    "install_ecs_sync_failure",
    "install_events_to_lambda",
    "install_fast_timers",
    "install_integration_normalisation",
    "install_jsonata",
    "install_jsonpath_fix",
    "install_lambda_inprocess",
    "install_map_tolerance",
    "install_retry_sync_fix",
    "install_runtime_error_capture",
    "install_sfn_fixes",
    "uninstall_all",
]
