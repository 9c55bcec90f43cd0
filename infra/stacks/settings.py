"""``StackSettings``: the stack's options, read and validated from ``cdk.json`` context in one go.

Workflows are named as ``FILE_OR_MODULE:WORKFLOW`` (the ``stratoflow run`` convention),
loaded, and lowered to IR here; the stack consumes only the IR. An entry may name a
``LaunchPlan`` instead (``examples/etl.py:nightly_report``, the variable or the plan's name):
the stack deploys the plan's workflow (once, however many plans or entries name it) and the
plan's schedule and notifications.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from infra.constructs import defaults
from infra.constructs._bundle import DependencyBundling
from infra.constructs._props import raise_if_problems
from stratoflow import ir
from stratoflow.define import LaunchPlan, TaskDef, load_target, module_name_for
from stratoflow.errors import SdkError
from stratoflow.ir import protocol
from stratoflow.lower import lower

__all__ = ["StackSettings", "WorkflowSource"]


@dataclass(frozen=True)
class WorkflowSource:
    """A workflow's IR and the module file the runner must import to run its tasks."""

    target: str
    module_file: Path
    spec: ir.WorkflowSpec
    module_tasks: tuple[ir.TaskSpec, ...] = ()
    """Every task defined or imported at the top of the workflow's module: what a ``@dynamic``
    body there can call, so the stack sizes the dynamic graphs' container compute from it."""


@dataclass(frozen=True)
class StackSettings:
    """Everything the stack needs from context (see ``cdk.json``)."""

    stack_name: str
    workflows: tuple[WorkflowSource, ...]
    stage: str | None = None
    lambda_architecture: defaults.Architecture = defaults.LAMBDA_ARCHITECTURE
    container_image: str | None = None
    runner_dependencies: DependencyBundling = DependencyBundling.PIP
    bundle_cache_dir: Path = field(default_factory=lambda: Path(defaults.BUNDLE_CACHE_DIR))
    cache_ttl_days: float = defaults.CACHE_TTL_DAYS
    kms: bool = False
    runner_reserved_concurrency: int | None = None
    launch_plans: tuple[ir.LaunchPlanSpec, ...] = ()

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | Any) -> StackSettings:
        """Read settings from a ``Mapping`` or a construct ``node`` (``app.node``); every problem at once.

        Example:
            >>> StackSettings.from_context(app.node).workflows[0].spec.name  # doctest: +SKIP
            'sales_report'
        """

        def get(key: str) -> Any:
            if isinstance(context, Mapping):
                return context.get(key)
            return context.try_get_context(key)

        problems: list[str] = []
        targets = get(defaults.CONTEXT_WORKFLOWS)
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
            problems.append(
                f"context {defaults.CONTEXT_WORKFLOWS!r} must be a non-empty list of 'FILE:WORKFLOW'"
            )
            targets = []
        workflows, plans = _load_all(targets, problems)
        architecture = get(defaults.CONTEXT_LAMBDA_ARCHITECTURE) or defaults.LAMBDA_ARCHITECTURE
        if architecture not in defaults.PIP_PLATFORMS:
            problems.append(
                f"context {defaults.CONTEXT_LAMBDA_ARCHITECTURE!r} must be one of "
                f"{sorted(defaults.PIP_PLATFORMS)}, got {architecture!r}"
            )
        mode = get(defaults.CONTEXT_RUNNER_DEPENDENCIES) or DependencyBundling.PIP.value
        modes = {m.value: m for m in DependencyBundling}
        if mode not in modes:
            problems.append(
                f"context {defaults.CONTEXT_RUNNER_DEPENDENCIES!r} must be one of {sorted(modes)}"
            )
        image = get(defaults.CONTEXT_CONTAINER_IMAGE)
        if image is not None and (not isinstance(image, str) or not image.strip()):
            problems.append(f"context {defaults.CONTEXT_CONTAINER_IMAGE!r} must be an image reference")
        ttl = get(defaults.CONTEXT_CACHE_TTL_DAYS)
        ttl = defaults.CACHE_TTL_DAYS if ttl is None else ttl
        if not isinstance(ttl, int | float) or ttl <= 0:
            problems.append(f"context {defaults.CONTEXT_CACHE_TTL_DAYS!r} must be a positive number of days")
        kms, reserved = _hardening(
            get(defaults.CONTEXT_KMS), get(defaults.CONTEXT_RUNNER_RESERVED_CONCURRENCY), problems
        )
        stage = get(defaults.CONTEXT_STAGE) or None
        if stage is not None and (not isinstance(stage, str) or protocol.stage_problem(stage)):
            problems.append(f"context {defaults.CONTEXT_STAGE!r}: {protocol.stage_problem(str(stage))}")
        raise_if_problems("StratoflowStack (cdk.json context)", problems)
        return cls(
            # A stage (-c stratoflow:stage=prod) is its own stack, and so has its own resource names.
            stack_name=protocol.stage_stack_name(
                str(get(defaults.CONTEXT_STACK_NAME) or defaults.STACK_NAME), stage
            ),
            stage=stage,
            workflows=tuple(workflows),
            lambda_architecture=cast("defaults.Architecture", architecture),
            container_image=image,
            runner_dependencies=modes[mode],
            bundle_cache_dir=Path(get(defaults.CONTEXT_BUNDLE_CACHE_DIR) or defaults.BUNDLE_CACHE_DIR),
            cache_ttl_days=float(ttl),
            kms=kms,
            runner_reserved_concurrency=reserved,
            launch_plans=tuple(plans),
        )

    @property
    def specs(self) -> Sequence[ir.WorkflowSpec]:
        return [w.spec for w in self.workflows]


def _hardening(kms: Any, reserved: Any, problems: list[str]) -> tuple[bool, int | None]:
    """The opt-in hardening flags (``stratoflow:kms``, ``stratoflow:runnerReservedConcurrency``)."""
    kms = False if kms is None else kms
    if not isinstance(kms, bool):
        problems.append(f"context {defaults.CONTEXT_KMS!r} must be true or false, got {kms!r}")
    if reserved is not None and (isinstance(reserved, bool) or not isinstance(reserved, int) or reserved < 1):
        problems.append(
            f"context {defaults.CONTEXT_RUNNER_RESERVED_CONCURRENCY!r} must be a positive integer, got {reserved!r}"
        )
    return kms is True, reserved if isinstance(reserved, int) and not isinstance(reserved, bool) else None


def _load_all(
    targets: Sequence[str], problems: list[str]
) -> tuple[list[WorkflowSource], list[ir.LaunchPlanSpec]]:
    """Every entry's workflow (each once) and launch plan; name clashes go to ``problems``."""
    workflows: list[WorkflowSource] = []
    plans: list[ir.LaunchPlanSpec] = []
    for target in targets:
        try:
            source, plan = _load_entry(target)
        except (SdkError, ValueError) as exc:
            problems.append(f"workflow {target!r}: {exc}")
            continue
        if plan is not None:
            plans.append(plan)
        # A plan's workflow may be listed too, or by several plans: deploy it once.
        if not any(w.spec.ref == source.spec.ref and w.spec.name == source.spec.name for w in workflows):
            workflows.append(source)
    names = [w.spec.name for w in workflows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"workflow names must be unique, repeated: {', '.join(duplicates)}")
    plan_names = [p.name for p in plans]
    repeated = sorted({n for n in plan_names if plan_names.count(n) > 1})
    if repeated:
        problems.append(f"launch plan names must be unique, repeated: {', '.join(repeated)}")
    return workflows, plans


def _load(target: str) -> WorkflowSource:
    """The workflow a context entry names (a launch plan's workflow, for a plan)."""
    return _load_entry(target)[0]


def _load_entry(target: str) -> tuple[WorkflowSource, ir.LaunchPlanSpec | None]:
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise ValueError("expected 'FILE_OR_MODULE:WORKFLOW'")
    found = load_target(where, name)
    plan = found.spec if isinstance(found, LaunchPlan) else None
    wf = found.workflow if isinstance(found, LaunchPlan) else found
    module = inspect.getmodule(wf.fn)
    tasks = {v.spec.ref: v.spec for v in vars(module).values() if isinstance(v, TaskDef)} if module else {}
    source = WorkflowSource(
        target=target,
        module_file=_module_file(where),
        spec=lower(wf),
        module_tasks=tuple(tasks[ref] for ref in sorted(tasks)),
    )
    return source, plan


def _module_file(where: str) -> Path:
    path = Path(where)
    if where.endswith(".py") or path.exists():
        root, name = module_name_for(path)
        # A file inside a package imports as 'pkg.mod': bundle its top-level package whole.
        return root / name.partition(".")[0] if "." in name else path.resolve()
    found = importlib.util.find_spec(where)
    if found is None or found.origin is None or found.submodule_search_locations:
        # A package would have to be bundled whole, under its top-level name.
        raise ValueError(f"{where!r} must be a .py file or a top-level module")
    if "." in where:
        raise ValueError(f"{where!r}: only top-level modules are bundled; name the file instead")
    return Path(found.origin)
