"""Secrets Manager adapter: the store a Lambda task's requested secrets are fetched from at run time.

A container task never calls it: ECS puts the secrets its task definition lists into the container's
environment (``STRATOFLOW_SECRET_<GROUP>_<KEY>``) before the entrypoint starts. A Lambda runner keeps
one store per container, so a warm function reads each secret once per ``ttl_seconds`` (a rotated
secret is seen within that time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from stratoflow.errors import ConfigError
from stratoflow.ir import _names

__all__ = ["DEFAULT_SECRET_TTL_SECONDS", "SecretsManagerStore"]

DEFAULT_SECRET_TTL_SECONDS = 300.0


class _SecretsClient(Protocol):
    """The one Secrets Manager call the store makes (a boto3 ``secretsmanager`` client)."""

    def get_secret_value(self, *, SecretId: str) -> Any: ...


class SecretsManagerStore:
    """Fetch secrets by their Secrets Manager name (``stratoflow/<group>/<key>``), each cached for
    ``ttl_seconds``; the client is made on first use."""

    def __init__(
        self,
        client: Callable[[], _SecretsClient],
        *,
        ttl_seconds: float = DEFAULT_SECRET_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_client = client
        self._client: _SecretsClient | None = None
        self._ttl = ttl_seconds
        self._clock = clock
        self._values: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def fetch(self, group: str, key: str | None, group_version: str | None) -> str | None:
        """The secret's string (or binary, as UTF-8) value; ``None`` when Secrets Manager has no such secret.

        Any other failure (not granted, throttled) is a one-line ConfigError naming the secret and the
        error code: never the response, which could carry the value.
        """
        name = _names.secret_name(group, key, group_version)
        now = self._clock()
        with self._lock:
            cached = self._values.get(name)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        value = self._get(name)
        with self._lock:
            self._values[name] = (now, value)
        return value

    def _get(self, name: str) -> str | None:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            client = self._client
        try:
            response = client.get_secret_value(SecretId=name)
        except (ClientError, BotoCoreError) as exc:
            code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
            if code == "ResourceNotFoundException":
                return None
            raise ConfigError(
                f"secret {name!r} could not be read from Secrets Manager: {code or type(exc).__name__} "
                "(is it granted to this task? see README, Secrets)"
            ) from None
        if "SecretString" in response:
            return str(response["SecretString"])
        return bytes(response["SecretBinary"]).decode()
