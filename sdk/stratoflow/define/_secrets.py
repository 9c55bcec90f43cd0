"""flytekit's secrets: ``Secret`` requests on a task, and ``current_context().secrets`` inside it.

A task asks for the secrets it reads (``@task(secret_requests=[Secret(group="db", key="password")])``);
``current_context().secrets.get("db", "password")`` then looks, in this order, at:

1. the environment: flytekit's ``_FSEC_DB_PASSWORD``, then ``STRATOFLOW_SECRET_DB_PASSWORD`` (where ECS
   puts a container task's requested secrets, from its container definition's ``secrets``);
2. the file ``$STRATOFLOW_HOME/secrets/db/password`` (a local run's secrets);
3. the run's secret store, for a requested secret only: Secrets Manager's ``stratoflow/db/password``
   when the task runs on Lambda (read at run time, cached per container, granted to that function only).

The values a task read are kept in its :class:`SecretsManager` so the runner can mask them
(:meth:`SecretsManager.redact`) in what it logs and in the errors it stores.

Example:
    >>> from stratoflow import Secret, current_context, task
    >>> @task(secret_requests=[Secret(group="db", key="password")])
    ... def connect() -> int:
    ...     return len(current_context().secrets.get("db", "password"))
"""

from __future__ import annotations

import enum
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from stratoflow.errors import ConfigError

# Not ``protocol``: it loads pydantic, which ``import stratoflow`` must not (test_import_light).
from stratoflow.ir import _names

__all__ = [
    "EnvironmentSecretStore",
    "Secret",
    "SecretStore",
    "SecretsManager",
    "secret_env_var",
    "secret_name",
]

REDACTED = "****"
# Patterns are kept as text: ``re`` compiles each on first use (and caches it), not at import.
_NAME_PART = r"[A-Za-z0-9_.-]+"


class _MountType(enum.Enum):
    ANY = 0
    ENV_VAR = 1
    FILE = 2


@dataclass(frozen=True)
class Secret:
    """flytekit's ``Secret``: a secret a task reads, by ``group`` and ``key``.

    ``mount_requirement`` is kept for flytekit's signature; every secret is read through
    ``current_context().secrets.get`` whatever it says (``FILE`` secrets also through
    ``get_secrets_file`` locally).

    Example:
        >>> Secret(group="db", key="password", mount_requirement=Secret.MountType.ENV_VAR).name
        'stratoflow/db/password'
    """

    MountType: ClassVar[type[_MountType]] = _MountType

    group: str
    key: str | None = None
    group_version: str | None = None
    mount_requirement: _MountType = _MountType.ANY

    def __post_init__(self) -> None:
        for part, value in (("group", self.group), ("key", self.key), ("group_version", self.group_version)):
            if value is not None and not re.fullmatch(_NAME_PART, value):
                raise ValueError(
                    f"secret {part} {value!r} must be letters, digits, '_', '.' or '-' "
                    "(it names an environment variable and a Secrets Manager secret)"
                )

    @property
    def name(self) -> str:
        """The Secrets Manager secret name: ``stratoflow/<group>[/<group_version>][/<key>]``."""
        return secret_name(self.group, self.key, self.group_version)


secret_name = _names.secret_name
secret_env_var = _names.secret_env_var


class _Named(Protocol):
    """A secret's name: a :class:`Secret`, or the IR's ``SecretRequest``."""

    @property
    def group(self) -> str: ...
    @property
    def key(self) -> str | None: ...
    @property
    def group_version(self) -> str | None: ...


class SecretStore(Protocol):
    """Where a run fetches requested secrets at run time (Secrets Manager on AWS Lambda)."""

    def fetch(self, group: str, key: str | None, group_version: str | None) -> str | None:
        """The secret's value, or ``None`` when there is no such secret."""
        ...


class EnvironmentSecretStore:
    """Requested secrets from an environment mapping a process was given (a container entrypoint's
    ``environ``, where ECS put the task definition's ``secrets`` as ``STRATOFLOW_SECRET_<GROUP>_<KEY>``)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def fetch(self, group: str, key: str | None, group_version: str | None) -> str | None:
        """The variable's value, or ``None``."""
        return self._environ.get(secret_env_var(group, key, group_version))


def _home() -> Path:
    # The same home as the cache and the run history (stratoflow.cache.home, not imported: it loads more).
    return Path(os.environ.get("STRATOFLOW_HOME") or Path.home() / ".stratoflow")


class SecretsManager:
    """flytekit's ``current_context().secrets`` (see the module docstring for where values come from)."""

    def __init__(self, *, requests: Iterable[_Named] = (), store: SecretStore | None = None) -> None:
        self._requested = {(s.group, s.key, s.group_version) for s in requests}
        self._store = store
        self._read: set[str] = set()
        self._lock = threading.Lock()

    def get_secrets_env_var(
        self, group: str, key: str | None = None, group_version: str | None = None
    ) -> str:
        """The environment variable that holds a secret (flytekit's name)."""
        parts = [p for p in (group, group_version, key) if p]
        return f"{_names.SECRET_ENV_PREFIX}{'_'.join(parts)}".upper()

    def get_secrets_file(self, group: str, key: str | None = None, group_version: str | None = None) -> str:
        """The local file a secret is read from (``$STRATOFLOW_HOME/secrets/<group>/<key>``)."""
        return str(_home().joinpath("secrets", *(p for p in (group, group_version, key) if p)))

    def get(
        self, group: str, key: str | None = None, group_version: str | None = None, encode_mode: str = "r"
    ) -> str | bytes:
        """The secret's value (bytes when ``encode_mode`` is ``"rb"``); a missing one is a ConfigError.

        The error names the group, the key and every place looked at, the same text in every backend.
        """
        value = self._lookup(group, key, group_version)
        if value is None:
            raise ConfigError(self._missing(group, key, group_version))
        with self._lock:
            self._read.add(value)
        return value.encode() if "b" in encode_mode else value

    def _lookup(self, group: str, key: str | None, group_version: str | None) -> str | None:
        for variable in (
            self.get_secrets_env_var(group, key, group_version),
            secret_env_var(group, key, group_version),
        ):
            if (value := os.environ.get(variable)) is not None:
                return value
        path = Path(self.get_secrets_file(group, key, group_version))
        if path.is_file():
            return path.read_text().removesuffix("\n")
        if self._store is not None and (group, key, group_version) in self._requested:
            return self._store.fetch(group, key, group_version)
        return None

    def _missing(self, group: str, key: str | None, group_version: str | None) -> str:
        requested = (group, key, group_version) in self._requested
        hint = "" if requested else "; the task does not request it (@task(secret_requests=[Secret(...)]))"
        return (
            f"secret group {group!r} key {key!r} is not set: the task's environment has no "
            f"{self.get_secrets_env_var(group, key, group_version)} or "
            f"{secret_env_var(group, key, group_version)}, there is no file "
            f"{'/'.join(p for p in ('secrets', group, group_version, key) if p)} under $STRATOFLOW_HOME, "
            f"and on AWS no secret {secret_name(group, key, group_version)!r} in Secrets Manager{hint}"
        )

    def redact(self, text: str) -> str:
        """``text`` with every secret value this task read replaced by ``****``."""
        with self._lock:
            values = sorted(self._read, key=len, reverse=True)
        for value in values:
            if value:
                text = text.replace(value, REDACTED)
        return text
