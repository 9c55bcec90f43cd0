"""Every moto 5.2.5 patch the emulated-AWS tier needs, and ``install_all`` to apply them.

One function per moto gap (see docs of each and /work/shared/research/moto-findings.md).
Every ``install_*`` is idempotent and returns an undo callable; undo in reverse install
order when patches wrap the same method (``uninstall_all`` does). The patches reach into
private interpreter internals, which is why moto is pinned exactly and every patch has a
canary test in tests/emulated/test_moto_canaries.py (CloudFormation ones in
test_cfn_canaries.py) that fails once moto fixes the gap.
"""

from __future__ import annotations

from stratoflow.testing._patches_actors import (
    install_ecs_workers,
    install_fast_heartbeats,
    install_heartbeat_timeout_name,
    install_task_failure_cause,
)
from stratoflow.testing._patches_batch import install_batch_inprocess
from stratoflow.testing._patches_cfn import (
    install_cfn_custom_resources,
    install_cfn_definition_substitutions,
    install_cfn_lambda_images,
    install_cfn_sfn_parser_backend,
    install_cfn_skip_unsupported,
)
from stratoflow.testing._patches_ecs import (
    install_ecs,
    install_ecs_inprocess,
    install_ecs_sync_failure,
)
from stratoflow.testing._patches_events import install_events_to_lambda
from stratoflow.testing._patches_integrations import (
    install_client_cache,
    install_integration_normalisation,
    install_retry_sync_fix,
)
from stratoflow.testing._patches_lambda import install_lambda_inprocess
from stratoflow.testing._patches_lookups import (
    install_error_shapes_by_flag,
    install_region_lists_from_metadata,
)
from stratoflow.testing._patches_map import install_definition_rewrites, install_map_tolerance
from stratoflow.testing._patches_parse import install_parse_once
from stratoflow.testing._patches_requests import (
    install_lazy_route_builders,
    install_model_lookups_by_name,
    install_moto_models_from_botocore,
    install_plain_json_models,
    install_s3_url_cache,
    install_shared_botocore_loader,
    install_shared_event_aliases,
)
from stratoflow.testing._patches_sfn import (
    install_early_stop_fix,
    install_execution_end_events,
    install_fast_timers,
    install_jsonata,
    install_jsonpath_fix,
    install_runtime_error_capture,
    install_sfn_fixes,
    prune_tmp_threads,
)
from stratoflow.testing._patches_tracing import install_noop_tracer
from stratoflow.testing._patching import Undo, installed_patches, is_installed, uninstall_all

__all__ = [
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
    "install_ecs_workers",
    "install_error_shapes_by_flag",
    "install_events_to_lambda",
    "install_execution_end_events",
    "install_fast_heartbeats",
    "install_fast_timers",
    "install_heartbeat_timeout_name",
    "install_integration_normalisation",
    "install_jsonata",
    "install_jsonpath_fix",
    "install_lambda_inprocess",
    "install_lazy_route_builders",
    "install_map_tolerance",
    "install_model_lookups_by_name",
    "install_moto_models_from_botocore",
    "install_noop_tracer",
    "install_parse_once",
    "install_plain_json_models",
    "install_region_lists_from_metadata",
    "install_retry_sync_fix",
    "install_runtime_error_capture",
    "install_s3_url_cache",
    "install_sfn_fixes",
    "install_shared_botocore_loader",
    "install_shared_event_aliases",
    "install_task_failure_cause",
    "installed_patches",
    "is_installed",
    "prune_tmp_threads",
    "uninstall_all",
]


HEARTBEAT_SCALE = 0.2
"""Factor on ``HeartbeatSeconds`` (60 s become 12 s): short enough that a lost worker is noticed
within a test, long enough that a worker started by the ensure step picks its first task up and
beats on a busy machine (at 3 s, a slow emulated start was taken for a lost worker: attempt 3)."""


def install_all(*, timer_scale: float = 0.001, heartbeat_scale: float = HEARTBEAT_SCALE) -> Undo:
    """Install every patch (idempotent); the returned callable removes them all.

    Args:
        timer_scale: factor applied to Retry backoff, Wait states and ``.sync`` polling.
        heartbeat_scale: factor applied to ``HeartbeatSeconds``.

    Example:
        >>> undo = install_all()
        >>> is_installed("install_lambda_inprocess")
        True
        >>> undo()
    """
    # Order matters only where two patches wrap one method: batching (definition rewrites)
    # must run inside the tolerance check so that both count the same jobs.
    undos = [
        install_plain_json_models(),
        install_shared_botocore_loader(),
        install_moto_models_from_botocore(),
        install_model_lookups_by_name(),  # after the shared loader: it asks the shared listing
        install_shared_event_aliases(),
        install_s3_url_cache(),
        install_lazy_route_builders(),
        install_error_shapes_by_flag(),
        install_region_lists_from_metadata(),
        install_lambda_inprocess(),
        install_noop_tracer(),
        install_fast_timers(timer_scale),
        install_jsonpath_fix(),
        install_definition_rewrites(),
        install_parse_once(),  # keeps the rewritten parse, so after the rewrites
        install_map_tolerance(),
        install_integration_normalisation(),
        install_retry_sync_fix(),
        install_sfn_fixes(),
        install_early_stop_fix(),
        install_execution_end_events(),
        install_client_cache(),
        install_jsonata(),
        install_runtime_error_capture(),
        # The ECS and Batch model patches wait for moto to load those services (install_patch).
        install_ecs(),
        install_ecs_inprocess(),
        install_ecs_sync_failure(),
        install_ecs_workers(),
        install_heartbeat_timeout_name(),
        install_fast_heartbeats(heartbeat_scale),
        install_task_failure_cause(),
        install_batch_inprocess(),
        install_events_to_lambda(),
        # CloudFormation only: no other path reaches these methods, so they are safe everywhere
        # (the two that patch moto's CloudFormation models wait for it to be loaded).
        install_cfn_sfn_parser_backend(),
        install_cfn_definition_substitutions(),
        install_cfn_lambda_images(),
        install_cfn_custom_resources(),
        install_cfn_skip_unsupported(),
    ]

    def undo_all() -> None:
        for undo in reversed(undos):
            undo()

    return undo_all
