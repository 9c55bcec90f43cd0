"""Patches that make each emulated request cheaper, with moto's and botocore's behaviour unchanged.

* ``install_shared_botocore_loader``: every botocore session (and moto's own model lookups)
  parsed the same model files again, and every loader walked the model directories again
  for each kind of model it listed;
* ``install_moto_models_from_botocore``: moto's model lookups parsed again the service models
  that botocore's clients had parsed;
* ``install_model_lookups_by_name``: botocore listed every service to check that one had a
  model, and moto's error responses listed them all to look one name up;
* ``install_plain_json_models``: botocore parsed every model file into ``OrderedDict`` objects,
  at twice the cost of plain dicts;
* ``install_shared_event_aliases``: every botocore session worked out the aliases of the
  same 500 event names again;
* ``install_s3_url_cache``: moto's S3 re-executes its URL module twice per request;
* ``install_lazy_route_builders``: moto's REST router compiles a URL builder per route that
  it never calls.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import botocore.hooks  # type: ignore[import-untyped]
import botocore.loaders  # type: ignore[import-untyped]
import botocore.session  # type: ignore[import-untyped]
import botocore.utils  # type: ignore[import-untyped]
from moto.core import loaders as moto_loaders
from moto.core import routing as moto_routing
from moto.core import utils as moto_utils
from moto.s3.models import S3Backend

from stratoflow.testing._patching import Patcher, Undo, install_patch
from stratoflow.testing._session import default_session

__all__ = [
    "install_lazy_route_builders",
    "install_model_lookups_by_name",
    "install_moto_models_from_botocore",
    "install_plain_json_models",
    "install_s3_url_cache",
    "install_shared_botocore_loader",
    "install_shared_event_aliases",
]


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

    ``Loader.list_available_services`` walks every search path (about 450 service folders)
    for each model type, and botocore asks for ``service-2`` both positionally and by keyword,
    which its per-instance cache keeps apart: five walks, 100 ms. Here each search path is
    walked once and each type is answered from that walk, with the same checks.
    """
    loaders: dict[Any, Any] = {}
    lock = threading.Lock()
    folders: dict[str, list[tuple[str, list[set[str]]]]] = {}  # search path -> (service, files per version)

    def shared(key: Any, create: Any) -> Any:
        with lock:
            loader = loaders.get(key)
            if loader is None:
                loader = loaders[key] = create()
            return loader

    def apply(p: Patcher) -> None:
        botocore_loader = botocore.session.create_loader
        original_listing = vars(botocore.loaders.Loader)["list_available_services"]
        moto_loader = vars(moto_utils)["create_loader"]  # moto.core.loaders.create_loader, as imported there

        def create_loader(search_path_string: str | None = None) -> Any:
            return shared(("botocore", search_path_string), lambda: botocore_loader(search_path_string))

        def service_folders(path: str) -> list[tuple[str, list[set[str]]]]:
            with lock:
                if path not in folders:
                    folders[path] = _service_folders(path)
                return folders[path]

        def list_available_services(self: Any, type_name: str) -> list[str]:
            key = ("list_available_services", type_name)
            if key not in self._cache:
                if type(self.file_loader) is not botocore.loaders.JSONFileLoader:
                    return list(original_listing(self, type_name))
                # What JSONFileLoader.exists(<version>/<type_name>) checks, by name.
                files = {type_name + extension for extension in botocore.loaders._JSON_OPEN_METHODS}
                self._cache[key] = sorted(
                    {
                        service
                        for path in self.search_paths
                        if Path(path).is_dir()
                        for service, versions in service_folders(path)
                        if any(not files.isdisjoint(names) for names in versions)
                    }
                )
            return list(self._cache[key])

        p.setattr(botocore.session, "create_loader", create_loader)
        p.setattr(moto_utils, "create_loader", lambda: shared(("moto",), moto_loader))
        p.setattr(botocore.loaders.Loader, "list_available_services", list_available_services)
        p.on_undo(loaders.clear)
        p.on_undo(folders.clear)

    return install_patch("install_shared_botocore_loader", apply)


def _service_folders(path: str) -> list[tuple[str, list[set[str]]]]:
    """Each service folder of a search path with the file names of each of its entries (for an
    api-version folder its model files; for anything else nothing). ``scandir``: no stat per file."""
    services = []
    with os.scandir(path) as entries:
        for service in entries:
            if service.is_dir():
                with os.scandir(service.path) as versions:
                    services.append((service.name, [_file_names(version) for version in versions]))
    return services


def _file_names(entry: os.DirEntry[str]) -> set[str]:
    if not entry.is_dir():
        return set()
    with os.scandir(entry.path) as files:
        return {file.name for file in files if file.is_file()}


def install_model_lookups_by_name() -> Undo:
    """Check that a service has a model by looking in its own folders, not by listing every service.

    ``Loader.load_service_model`` lists every service with a model of the asked type (the walk
    of each search path's 450 service folders ``install_shared_botocore_loader`` does once per
    path: about 20 ms, for botocore's folder and moto's) only to check that the asked one is
    among them; and moto's first error response lists them all again, from a new session, to
    map its package name to the service's (``service_name_from_moto_package_name``). Here each
    looks in the folders of the names it asks about, with the listing's checks (a version
    folder holding a ``<type>.json`` or ``.json.gz`` file); a service that has no model still
    goes botocore's way, whose error names the known ones.
    """
    asked: contextvars.ContextVar[tuple[Any, str, str] | None] = contextvars.ContextVar("asked", default=None)
    known: dict[tuple[tuple[str, ...], str, str], bool] = {}
    lock = threading.Lock()

    def has_model(loader: Any, service: str, type_name: str) -> bool:
        key = (tuple(loader.search_paths), service, type_name)
        with lock:
            if key not in known:
                known[key] = _has_model(loader.search_paths, service, type_name)
            return known[key]

    def apply(p: Patcher) -> None:
        inner_listing = botocore.loaders.Loader.list_available_services  # shared walk, when installed
        inner_load = botocore.loaders.Loader.load_service_model
        inner_name = vars(moto_utils)["service_name_from_moto_package_name"]

        def list_available_services(self: Any, type_name: str) -> list[str]:
            question = asked.get()
            if question is not None and question[0] is self and question[1] == type_name:
                return [question[2]]  # the check below found it: what the listing would contain
            return list(inner_listing(self, type_name))

        def load_service_model(
            self: Any, service_name: str, type_name: str, api_version: str | None = None
        ) -> Any:
            if type(self.file_loader) is not botocore.loaders.JSONFileLoader or not has_model(
                self, service_name, type_name
            ):
                return inner_load(self, service_name, type_name, api_version)
            token = asked.set((self, type_name, service_name))
            try:
                return inner_load(self, service_name, type_name, api_version)
            finally:
                asked.reset(token)

        @functools.cache
        def service_name_from_moto_package_name(moto_package_name: str) -> str:
            # moto: {name.replace("-", ""): name for name in Session().get_available_services()},
            # looked up with the package name as the default: the last such name, sorted.
            # The clients' session's loader: a new Session (moto's way) registers some 500
            # handlers first, about 9 ms of the first error response a run --sandbox serialises.
            session = default_session()
            loader = (session._session if session is not None else botocore.session.Session()).get_component(
                "data_loader"
            )
            if type(loader.file_loader) is not botocore.loaders.JSONFileLoader:
                return str(inner_name(moto_package_name))
            names = {
                name
                for path in loader.search_paths
                if Path(path).is_dir()
                for name in _folder_names(path)
                if name.replace("-", "") == moto_package_name
            }
            found = [name for name in names if has_model(loader, name, "service-2")]
            return max(found) if found else moto_package_name

        p.setattr(botocore.loaders.Loader, "list_available_services", list_available_services)
        p.setattr(botocore.loaders.Loader, "load_service_model", load_service_model)
        p.setattr(moto_utils, "service_name_from_moto_package_name", service_name_from_moto_package_name)
        p.on_undo(known.clear)

    return install_patch("install_model_lookups_by_name", apply)


def _folder_names(path: str) -> list[str]:
    with os.scandir(path) as entries:
        return [entry.name for entry in entries if entry.is_dir()]


def _has_model(search_paths: list[str], service: str, type_name: str) -> bool:
    """Whether ``Loader.list_available_services(type_name)`` over ``search_paths`` lists ``service``:
    a folder of that name in a search path, with an entry holding ``<type_name>`` + a JSON extension."""
    if service in {"", ".", ".."} or os.sep in service or (os.altsep is not None and os.altsep in service):
        return False  # never a folder name: left to the listing
    files = {type_name + extension for extension in botocore.loaders._JSON_OPEN_METHODS}
    for path in search_paths:
        folder = Path(path, service)
        if Path(path).is_dir() and folder.is_dir():
            with os.scandir(folder) as versions:
                if any(not files.isdisjoint(_file_names(version)) for version in versions):
                    return True
    return False


def install_moto_models_from_botocore() -> Undo:
    """Let moto's model loader take a model file from botocore's shared loader when both read it alike.

    moto reads a service's model (to parse requests and serialise responses) through a loader
    of its own, which searches moto's folder, where moto keeps only extras, before botocore's;
    so it parsed again each model that the clients' loader had parsed: about 8 ms each for
    DynamoDB's and Lambda's. A file that moto has no copy of, and that neither loader merges
    extras into (each merges its own into the loaded data, in place), is the same data
    either way, and loaded data is read-only; S3's (extras of both kinds) is still read by
    each. Counts only with ``install_shared_botocore_loader``: without it the loader asked is
    a new one each time.
    """

    def apply(p: Patcher) -> None:
        original = botocore.loaders.Loader.load_data_with_path  # moto's Loader has none of its own

        def load_data_with_path(self: Any, name: str) -> Any:
            shared = botocore.session.create_loader(None)  # the clients' (with AWS_DATA_PATH unset)
            after_moto = self.search_paths[1:]  # boto3 sessions append their own folder to shared's
            if shared.search_paths[: len(after_moto)] == after_moto and not _extended(self, name):
                found = shared.load_data_with_path(name)
                search_path = Path(found[1]).parents[len(Path(name).parts) - 1]
                if search_path in map(Path, after_moto):  # found where moto looks too
                    return found
            return original(self, name)

        p.setattr(moto_loaders.Loader, "load_data_with_path", load_data_with_path)

    return install_patch("install_moto_models_from_botocore", apply)


def _extended(moto_loader: Any, name: str) -> bool:
    """Whether moto has its own file for ``name`` or either loader would merge extras into it."""
    service, _, rest = name.partition("/")
    own = [Path(moto_loader.search_paths[0], name)]
    extras = [
        Path(path, folder, f"{rest}.{kind}-extras")
        for path in moto_loader.search_paths
        for folder in {service, service.replace("-", "")}  # moto looks its extras up without dashes
        for kind in {*botocore.loaders.Loader.BUILTIN_EXTRAS_TYPES, *moto_loader.extras_types}
    ]
    return any(moto_loader.file_loader.exists(str(path)) for path in own + extras)


def install_plain_json_models() -> Undo:
    """Parse botocore's model files into plain dicts, not ``OrderedDict`` objects.

    ``JSONFileLoader`` parses each file with ``object_pairs_hook=OrderedDict``, a call per JSON
    object: about twice plain parsing (``endpoints.json``: 28 ms, not 14; the models of a
    ``run --sandbox``: some 30 ms). A dict keeps its keys in file order as well, and nothing
    botocore, boto3 or moto does with loaded data needs an ``OrderedDict`` (no type check,
    no ``move_to_end``): the same data, in the same order.
    """

    def load_file(self: Any, full_path: str, open_method: Any) -> Any:
        if not Path(full_path).is_file():
            return None
        with open_method(full_path, "rb") as fp:
            payload = fp.read().decode("utf-8")
        botocore.loaders.logger.debug("Loading JSON file: %s", full_path)
        return json.loads(payload)

    def apply(p: Patcher) -> None:
        p.setattr(botocore.loaders.JSONFileLoader, "_load_file", load_file)

    return install_patch("install_plain_json_models", apply)


def install_shared_event_aliases() -> Undo:
    """Let every botocore session created from now on share one event-alias cache.

    A new session registers about 500 built-in handlers, and its ``EventAliaser`` rewrites
    each event name through the alias table (a loop of string splits per name) into a cache
    of its own (and each client's copy of it starts another): about 5 ms per session, and an
    emulated run makes eight sessions and a dozen clients. The aliased name depends only on
    the name and the table, so aliasers with botocore's table can share the results.
    """
    cache: dict[str, str] = {}

    def apply(p: Patcher) -> None:
        aliaser = botocore.hooks.EventAliaser
        original = aliaser.__init__

        def init(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
            original(self, event_emitter, event_aliases)
            # botocore's own table: a session's (None) or a copy of it (a client's emitter).
            if self._event_aliases == botocore.utils.EVENT_ALIASES:
                self._alias_name_cache = cache

        p.setattr(aliaser, "__init__", init)
        p.on_undo(cache.clear)

    return install_patch("install_shared_event_aliases", apply)


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


def install_lazy_route_builders() -> Undo:
    """Compile a moto REST route's URL builders when one is first used, not when it is bound.

    moto matches REST requests (Lambda's, for one) with a Werkzeug ``Map`` of ``SmithyRule``
    routes, built on the service's first request; binding each rule also generates and
    compiles two functions that build URLs from it (``url_for``), which moto never calls:
    about 45 ms for Lambda's 89 routes, a tenth of the emulator's start. Each builder is
    now compiled by its first call instead, so building a URL works as before.
    """

    def apply(p: Patcher) -> None:
        original = moto_routing.SmithyRule._compile_builder

        def compile_builder(self: Any, append_unknown: bool = True) -> Any:
            def build(rule: Any, *args: Any, **kwargs: Any) -> Any:
                real = original(rule, append_unknown).__get__(rule, None)
                setattr(rule, "_build_unknown" if append_unknown else "_build", real)
                return real(*args, **kwargs)

            return build

        p.setattr(moto_routing.SmithyRule, "_compile_builder", compile_builder)

    return install_patch("install_lazy_route_builders", apply)
