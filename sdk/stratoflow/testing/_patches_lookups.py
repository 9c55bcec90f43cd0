"""Patches that let moto look one thing up in a service model without resolving all of it.

* ``install_error_shapes_by_flag``: a model's error shapes were found by resolving every
  shape of the model (S3's 727) to read one flag;
* ``install_region_lists_from_metadata``: moto parsed a whole service model (CloudWatch
  Logs': 700 KB) to read its endpoint prefix when it listed the service's regions.
"""

from __future__ import annotations

import codecs
import functools
import json
import threading
from pathlib import Path
from typing import Any

import botocore.loaders  # type: ignore[import-untyped]
import botocore.model  # type: ignore[import-untyped]
from botocore.utils import CachedProperty  # type: ignore[import-untyped]
from moto.core.base_backend import AccountSpecificBackend

from stratoflow.testing._patches_requests import _has_model
from stratoflow.testing._patching import Patcher, Undo, install_patch

__all__ = ["METADATA_HEAD_BYTES", "install_error_shapes_by_flag", "install_region_lists_from_metadata"]

METADATA_HEAD_BYTES = 65536
"""How much of a model file is read for its ``metadata`` (the second key of botocore's files, under
2 KB); a file whose metadata is not within it is parsed whole, as before."""


def install_error_shapes_by_flag() -> Undo:
    """Find a service model's error shapes by their ``exception`` flag, resolving only those.

    ``ServiceModel.error_shapes`` resolves every shape of the model into a ``Shape`` object to
    read ``shape.metadata["exception"]``, which is the shape definition's own ``exception``
    key; moto's error serialiser asks for them on a service's first error response (S3's
    first missing key: 727 shapes, about 2 ms each time a model is new). Reading the flag from
    the definitions gives the same shapes, in the same order, as the same kind of objects.
    A model with a shape lacking its ``type`` (which resolving rejects) goes botocore's way.
    """

    def apply(p: Patcher) -> None:
        original = vars(botocore.model.ServiceModel)[
            "error_shapes"
        ]._fget  # the function CachedProperty caches

        def error_shapes(self: Any) -> list[Any]:
            definitions = self._service_description.get("shapes", {})
            if type(self._shape_resolver) is not botocore.model.ShapeResolver or not all(
                "type" in definitions[name] for name in self.shape_names
            ):
                return list(original(self))
            return [
                self.shape_for(name) for name in self.shape_names if definitions[name].get("exception", False)
            ]

        p.setattr(botocore.model.ServiceModel, "error_shapes", CachedProperty(error_shapes))

    return install_patch("install_error_shapes_by_flag", apply)


def install_region_lists_from_metadata() -> Undo:
    """List a service's regions for moto's backends from its model's ``metadata`` alone.

    moto's ``AccountSpecificBackend`` lists the regions of a service when it first makes
    that service's backend, through botocore's ``Session.get_available_regions``, which loads
    the whole service model only to read ``metadata.endpointPrefix``: for a service no client
    has loaded (CloudWatch Logs, whose backend Lambda's makes) a 700 KB parse, about 5 ms.
    Here the model file botocore would load (first search path, first extension) is read up to
    its top-level ``metadata`` object, when no extras file could change it; otherwise, or for a
    service botocore does not know, botocore's way. moto's own session has no handlers for the
    ``service-data-loaded`` event that loading would emit.
    """
    prefixes: dict[tuple[tuple[str, ...], str], str | None] = {}
    lock = threading.Lock()

    def endpoint_prefix(loader: Any, service: str) -> str | None:
        key = (tuple(loader.search_paths), service)
        with lock:
            if key not in prefixes:
                prefixes[key] = _endpoint_prefix(loader, service)
            return prefixes[key]

    def apply(p: Patcher) -> None:
        @functools.lru_cache
        def generate_regions(self: AccountSpecificBackend[Any], service_name: str) -> list[str]:
            session = AccountSpecificBackend.get_session()
            core = session._session
            prefix = endpoint_prefix(core.get_component("data_loader"), service_name)
            regions: list[str] = []
            for partition in session.get_available_partitions():
                if prefix is None:
                    regions.extend(session.get_available_regions(service_name, partition_name=partition))
                else:
                    resolver = core._get_internal_component("endpoint_resolver")
                    regions.extend(resolver.get_available_endpoints(prefix, partition, False))
            return regions

        p.setattr(AccountSpecificBackend, "_generate_regions", generate_regions)
        p.on_undo(prefixes.clear)

    return install_patch("install_region_lists_from_metadata", apply)


def _endpoint_prefix(loader: Any, service: str) -> str | None:
    """``metadata.get("endpointPrefix", service)`` of the ``service-2`` model ``loader`` would load,
    read from the head of its file; None when that is not certain to be the same."""
    if (
        type(loader) is not botocore.loaders.Loader
        or type(loader.file_loader) is not botocore.loaders.JSONFileLoader
    ):
        return None
    if not _has_model(loader.search_paths, service, "service-2"):  # what the listing says, by name
        return None  # botocore's UnknownServiceError path
    version = loader.determine_latest_version(service, "service-2")
    files = [
        Path(path, service, version, name + extension)
        for path in loader.search_paths
        if Path(path).is_dir()
        for name in ["service-2", *(f"service-2.{kind}-extras" for kind in loader.extras_types)]
        for extension in botocore.loaders._JSON_OPEN_METHODS
    ]
    models = [file for file in files if file.name.startswith("service-2.json") and file.is_file()]
    if not models or any(file.is_file() for file in files if "-extras" in file.name):
        return None
    model = models[0]  # the first search path's, '.json' before '.json.gz', as load_file looks
    metadata = _head_metadata(
        model, botocore.loaders._JSON_OPEN_METHODS[model.name.removeprefix("service-2")]
    )
    if not isinstance(metadata, dict):
        return None
    prefix = metadata.get("endpointPrefix", service)
    return prefix if isinstance(prefix, str) else None


def _head_metadata(path: Path, open_method: Any) -> object:
    """The value of the top-level ``"metadata"`` key, when it is within the file's first
    ``METADATA_HEAD_BYTES`` (None otherwise): each key before it is decoded as ``json`` would."""
    with open_method(path, "rb") as stream:
        head = codecs.getincrementaldecoder("utf-8")().decode(stream.read(METADATA_HEAD_BYTES))
    decoder = json.JSONDecoder()
    index = _skip_space(head, 0)
    if not head.startswith("{", index):
        return None
    index += 1
    try:
        while True:
            index = _skip_space(head, index)
            if not head.startswith('"', index):
                return None
            key, index = decoder.raw_decode(head, index)
            index = _skip_space(head, index)
            if not head.startswith(":", index):
                return None
            value, index = decoder.raw_decode(head, _skip_space(head, index + 1))
            if key == "metadata":
                return value
            index = _skip_space(head, index)
            if not head.startswith(",", index):
                return None
            index += 1
    except json.JSONDecodeError:  # the head ends before the metadata does
        return None


def _skip_space(text: str, index: int) -> int:
    """The index of the first character from ``index`` on that is not JSON whitespace."""
    while index < len(text) and text[index] in " \t\n\r":
        index += 1
    return index
