"""The runner's settings on AWS, read from its environment per invocation (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from stratoflow.errors import ConfigError
from stratoflow.ir import protocol

__all__ = ["RunnerSettings"]


@dataclass(frozen=True)
class RunnerSettings:
    """Runner settings from the environment (read per invocation, never at import time)."""

    bucket: str
    cache_table: str
    cache_ttl_seconds: int | None
    dynamic_compute: protocol.DynamicCompute = field(default_factory=protocol.DynamicCompute)
    actors: protocol.ActorPools = field(default_factory=protocol.ActorPools)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RunnerSettings:
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in (protocol.ENV_BUCKET, protocol.ENV_CACHE_TABLE) if not env.get(name)]
        if missing:
            raise ConfigError(f"runner settings missing from the environment: {', '.join(missing)}")
        ttl_days = env.get(protocol.ENV_CACHE_TTL_DAYS, "")
        try:
            ttl = int(float(ttl_days) * 86_400) if ttl_days else None
        except ValueError as exc:
            raise ConfigError(f"{protocol.ENV_CACHE_TTL_DAYS} must be a number, got {ttl_days!r}") from exc
        compute = env.get(protocol.ENV_DYNAMIC_COMPUTE, "")
        try:
            dynamic = protocol.DynamicCompute.model_validate_json(compute) if compute else None
        except ValueError as exc:
            raise ConfigError(f"{protocol.ENV_DYNAMIC_COMPUTE} is not valid JSON compute: {exc}") from exc
        pools = env.get(protocol.ENV_ACTORS, "")
        try:
            actors = protocol.ActorPools.model_validate_json(pools) if pools else None
        except ValueError as exc:
            raise ConfigError(f"{protocol.ENV_ACTORS} is not valid JSON actor pools: {exc}") from exc
        return cls(
            bucket=env[protocol.ENV_BUCKET],
            cache_table=env[protocol.ENV_CACHE_TABLE],
            cache_ttl_seconds=ttl,
            dynamic_compute=dynamic or protocol.DynamicCompute(),
            actors=actors or protocol.ActorPools(),
        )
