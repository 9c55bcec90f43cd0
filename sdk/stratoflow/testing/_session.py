"""The emulator's boto3 session: one client per service for the harness and the in-process runner.

The runner Lambda (``stratoflow_functions.task_runner``) makes its S3 and DynamoDB clients with
``boto3.client(name)``, that is from boto3's default session, while the harness made its own
from a session of its own: a run built a second session (its credential and config chain) and
a second S3 and DynamoDB client, identical to the harness's (same fake credentials, region and
default config), on its first invocation: about 25 ms of a ``run --sandbox``. While the harness
is up, its session is boto3's default one, and a plain ``client(name)`` call (no region,
endpoint, credentials or config of its own) hands out that service's one client; any other call
builds a new client as before (moto's interpreter asks for its own, without retries).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3  # type: ignore[import-untyped]  # only the per-service mypy_boto3 stubs are installed

__all__ = ["SharedClientsSession", "default_session", "set_default_session"]


class SharedClientsSession(boto3.Session):  # type: ignore[misc]  # boto3 is untyped
    """A ``boto3.Session`` whose plain ``client(service_name)`` calls share one client per service
    (botocore clients are thread-safe once built; building them is not, hence the lock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        """That service's shared client for a plain call; a new client for any other."""
        with self._lock:
            if args or kwargs:
                return super().client(service_name, *args, **kwargs)
            client = self._shared.get(service_name)
            if client is None:
                client = self._shared[service_name] = super().client(service_name)
            return client


def default_session() -> Any:
    """boto3's default session (``None`` before anything made one)."""
    return boto3.DEFAULT_SESSION


def set_default_session(session: Any) -> None:
    """Make ``session`` boto3's default one (what ``boto3.client(...)`` builds clients from)."""
    boto3.DEFAULT_SESSION = session
