"""``TaskOptions``: the options of ``@task`` / ``@dynamic``, frozen and validated once.

The keyword arguments are typed by :class:`TaskKwargs` (``**options: Unpack[TaskKwargs]``),
so type checkers see every option; :class:`TaskOptions` holds them with their defaults and
checks them on construction. A test pins the two field lists equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypedDict, cast, get_args

from stratoflow import accelerators, ir, routing
from stratoflow.define._images import ImageSpec, image_ref
from stratoflow.define._resources import Resources, to_spec
from stratoflow.define._secrets import Secret

__all__ = ["Compute", "OptionsError", "TaskKwargs", "TaskOptions"]

Compute = Literal["auto", "lambda", "fargate", "batch"]


class TaskKwargs(TypedDict, total=False):
    """The keyword options of ``@task`` and ``@dynamic`` (see :class:`TaskOptions`)."""

    requests: Resources | None
    limits: Resources | None
    accelerator: accelerators.GPUAccelerator | str | None
    interruptible: bool
    cache: bool
    cache_version: str | None
    cache_serialize: bool
    cache_ignore_input_vars: tuple[str, ...]
    retries: int
    timeout: timedelta | float | None
    compute: Compute
    name: str | None
    container_image: str | ImageSpec | None
    enable_deck: bool
    disable_deck: bool
    secret_requests: list[Secret] | tuple[Secret, ...]


class OptionsError(ValueError):
    """Invalid task options; :meth:`messages` words every problem for the task ``what``."""

    def __init__(self, phrases: list[str]) -> None:
        super().__init__("; ".join(phrases))
        self.phrases = phrases

    def messages(self, what: str) -> list[str]:
        # "task 'x' requests resources ..." reads as a sentence; the rest are "task 'x': ...".
        return [f"{what} {p}" if p.startswith("requests ") else f"{what}: {p}" for p in self.phrases]


def _timeout_seconds(timeout: timedelta | float | None) -> int | None:
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if seconds <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return max(1, round(seconds))


def _secret_specs(requests: object, problems: list[str]) -> tuple[ir.SecretRequest, ...]:
    """The IR's secret requests (sorted, deduplicated); anything but ``Secret`` objects is a problem."""
    if not isinstance(requests, list | tuple) or not all(isinstance(r, Secret) for r in requests):
        problems.append(f"secret_requests must be a list of Secret(group=..., key=...), got {requests!r:.80}")
        return ()
    specs = {
        (r.group, r.key, r.group_version): ir.SecretRequest(
            group=r.group, key=r.key, group_version=r.group_version, mount=r.mount_requirement.name.lower()
        )
        for r in requests
    }
    return tuple(specs[name] for name in sorted(specs, key=lambda n: tuple(p or "" for p in n)))


@dataclass(frozen=True, kw_only=True)
class TaskOptions:
    """A task's options, checked when built (:class:`OptionsError` lists every problem).

    ``requests_spec``, ``limits_spec``, ``timeout_seconds`` and ``image`` (from
    ``container_image``, an image URI or an :class:`ImageSpec`) are the normalised forms the
    IR stores. GPUs follow Kubernetes: a GPU limit alone requests that many, and an
    accelerator with no GPU count requests one.

    Example:
        >>> TaskOptions(retries=2, requests=Resources(mem="1Gi")).requests_spec.memory_mib
        1024
    """

    requests: Resources | None = None
    limits: Resources | None = None
    accelerator: accelerators.GPUAccelerator | str | None = None
    interruptible: bool = False
    cache: bool = False
    cache_version: str | None = None
    cache_serialize: bool = False
    cache_ignore_input_vars: tuple[str, ...] = ()
    retries: int = 0
    timeout: timedelta | float | None = None
    compute: Compute = "auto"
    name: str | None = None
    container_image: str | ImageSpec | None = None
    enable_deck: bool = False
    disable_deck: bool | None = None  # flytekit's older spelling (``disable_deck=False``), still common
    secret_requests: list[Secret] | tuple[Secret, ...] = ()
    requests_spec: ir.ResourcesSpec = field(init=False, repr=False, compare=False)
    limits_spec: ir.ResourcesSpec = field(init=False, repr=False, compare=False)
    timeout_seconds: int | None = field(init=False, repr=False, compare=False)
    image: ir.ImageRef | None = field(init=False, repr=False, compare=False)
    secrets: tuple[ir.SecretRequest, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        requests = limits = ir.ResourcesSpec.trusted()
        try:
            requests = to_spec(self.requests)
            limits = to_spec(self.limits)
        except ValueError as exc:
            problems.append(str(exc))
        if limits.gpu > requests.gpu:
            # As in Kubernetes (and so Flyte), a GPU limit alone requests that many GPUs.
            requests = requests.model_copy(update={"gpu": limits.gpu})
        if self.accelerator is not None:
            try:
                device = accelerators.resolve(self.accelerator)
                requests = requests.model_copy(update={"accelerator": device, "gpu": requests.gpu or 1})
            except ValueError as exc:
                problems.append(str(exc))
        timeout = None
        try:
            timeout = _timeout_seconds(self.timeout)
        except ValueError as exc:
            problems.append(str(exc))
        image = None
        try:
            image = image_ref(self.container_image)
        except ValueError as exc:
            problems.append(str(exc))
        self._resolve_deck(problems)
        secrets = _secret_specs(self.secret_requests, problems)
        if self.retries < 0:
            problems.append(f"retries must be >= 0, got {self.retries}")
        if self.compute not in get_args(Compute):
            *rest, last = (repr(c) for c in get_args(Compute))
            choices = f"{', '.join(rest)} or {last}"
            problems.append(f"compute must be {choices}, got {self.compute!r}")
        elif not problems:
            try:
                # routing gains compute='batch' with AWS Batch; cast keeps this call valid before and after.
                routing.route(
                    requests,
                    interruptible=self.interruptible,
                    timeout_seconds=timeout,
                    compute=cast(Literal["auto", "lambda", "fargate"], self.compute),
                )
            except routing.RoutingError as exc:
                problems.append(f"requests resources no compute target can meet: {exc}")
        if problems:
            raise OptionsError(problems)
        object.__setattr__(self, "requests_spec", requests)
        object.__setattr__(self, "limits_spec", limits)
        object.__setattr__(self, "timeout_seconds", timeout)
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "secrets", secrets)

    def _resolve_deck(self, problems: list[str]) -> None:
        # flytekit's rule: disable_deck (deprecated, still common) or enable_deck, never both.
        if self.disable_deck is not None and self.enable_deck:
            problems.append("only one of [disable_deck, enable_deck] can be set")
        elif self.disable_deck is False:
            object.__setattr__(self, "enable_deck", True)

    @classmethod
    def of(cls, kwargs: TaskKwargs) -> TaskOptions:
        """Options from decorator keywords; an unknown keyword is an :class:`OptionsError`."""
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise OptionsError(
                [f"unknown option(s) {', '.join(unknown)}; options are: {', '.join(sorted(known))}"]
            )
        return cls(**kwargs)

    def replace(self, **changes: object) -> TaskOptions:
        """A copy with some options changed, validated again (for overrides)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
