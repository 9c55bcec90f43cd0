"""Patches that make each emulated request cheaper, with moto's and botocore's behaviour unchanged.

* ``install_shared_botocore_loader``: every botocore session (and moto's own model lookups)
  parsed the same model files again;
* ``install_s3_url_cache``: moto's S3 re-executes its URL module twice per request.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from moto.core import utils as moto_utils
from moto.s3.models import S3Backend

from stratoflow.testing._patching import Patcher, Undo, install_patch

__all__ = ["install_s3_url_cache", "install_shared_botocore_loader"]


def install_shared_botocore_loader() -> Undo:
    """Give every botocore session created from now on the same data loader per data path,
    and moto's model lookups one loader of their own.

    Each session builds its own loader, and each loader parses ``endpoints.json`` (1.2 MB,
    about 0.2 s), lists the 400-odd service directories (about 40 ms per model type) and
    parses every service model it is asked for again. An emulated run has many sessions: the
    harness's, boto3's default one (the runner Lambda's clients), moto's own (its region
    lists and error responses), the interpreter's and the X-Ray SDK's sampler's; and moto
    builds a new loader for every service model it reads. The files are the same for
    sessions with the same ``AWS_DATA_PATH``, and loaded data is read-only (a session's
    clients already share one loader's cache), so they can share it.
    """
    loaders: dict[Any, Any] = {}
    lock = threading.Lock()

    def shared(key: Any, create: Any) -> Any:
        with lock:
            loader = loaders.get(key)
            if loader is None:
                loader = loaders[key] = create()
            return loader

    def apply(p: Patcher) -> None:
        botocore_loader = botocore.session.create_loader
        moto_loader = vars(moto_utils)["create_loader"]  # moto.core.loaders.create_loader, as imported there

        def create_loader(search_path_string: str | None = None) -> Any:
            return shared(("botocore", search_path_string), lambda: botocore_loader(search_path_string))

        p.setattr(botocore.session, "create_loader", create_loader)
        p.setattr(moto_utils, "create_loader", lambda: shared(("moto",), moto_loader))
        p.on_undo(loaders.clear)

    return install_patch("install_shared_botocore_loader", apply)


def install_s3_url_cache() -> Undo:
    """Reload ``moto.s3.urls`` only when what it reads has changed.

    moto's ``S3Backend._url_module`` reloads that module on every access, because its URL
    patterns include ``MOTO_S3_CUSTOM_ENDPOINTS``; every S3 request reads it twice (the
    patterns and the handlers), so each request re-ran the module. It reads nothing else,
    so reloading when that variable changes gives the same URLs.
    """
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def url_module(self: S3Backend) -> Any:
        from moto.s3 import urls  # noqa: PLC0415 - as moto does, after the models

        endpoints = os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS")
        with lock:
            if state.get("module") is not urls or state.get("endpoints") != endpoints:
                state["module"] = importlib.reload(urls)
                state["endpoints"] = endpoints
            return state["module"]

    def apply(p: Patcher) -> None:
        p.setattr(S3Backend, "_url_module", property(url_module))
        p.on_undo(state.clear)

    return install_patch("install_s3_url_cache", apply)
