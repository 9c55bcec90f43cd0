"""Keep moto's Batch package from importing its models (and EC2's) until Batch is used, and two
modules moto and ``responses`` import but a run rarely uses until they are.

Imported first by ``stratoflow.testing``: moto's Step Functions interpreter imports the
``JobStatus`` enum from ``moto.batch.utils`` for its Batch integration, and moto's
``moto/batch/__init__.py`` is the single line ``from .models import batch_backends``, which
imports moto's Batch, ECS and EC2 models: about 2 s (EC2 reads its region, AMI and instance
type tables), most of a ``run --sandbox`` whose workflow has only Lambda tasks. Here
``moto.batch`` is the same package, its spec and path found as the import system finds them,
with that one name resolved when first read (``mock_aws``'s ``get_backend("batch")`` reads
it on the first Batch request), so ``moto.batch.utils`` and the interpreter load alone.
A no-op when ``moto.batch`` is already imported. ``werkzeug`` likewise: its ``__init__`` only
re-exports four names, and importing it ran ``werkzeug.serving`` (the development server, with
``http.server`` and ``socketserver``), which nothing in an emulated run starts; moto imports the
submodules it uses (``werkzeug.exceptions``, ``werkzeug.routing``, ...) by name.

``LAZY_MODULES`` are imported at the top of a module and used only inside calls a run seldom
makes: ``cryptography.x509`` by ``moto.iam.models`` (IAM's signing certificates; Lambda's models
import IAM's) and ``yaml`` by ``responses`` (loading recorded responses from a file): about
50 ms of a ``run --sandbox``. Each runs when first used (``defer_module``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Mapping
from types import ModuleType

__all__ = ["LAZY_MODULES", "LAZY_PACKAGES", "defer_module", "defer_package_models"]

LAZY_PACKAGES: dict[str, dict[str, str]] = {
    "werkzeug": {"run_simple": "serving", "Client": "test", "Request": "wrappers", "Response": "wrappers"},
    "moto.batch": {
        "batch_backends": "models"
    },  # after werkzeug: finding it imports moto, which imports werkzeug
}
"""Package -> each name its ``__init__`` imports -> the submodule it takes it from (all it does)."""
LAZY_MODULES = ("cryptography.x509", "yaml")
"""Modules put in ``sys.modules`` unexecuted: each runs at its first attribute access."""


def defer_package_models(package: str, names: Mapping[str, str]) -> ModuleType:
    """Put ``package`` in ``sys.modules`` without running its ``__init__``, whose only job is
    ``from .<submodule> import <name>`` for each of ``names`` (name -> submodule): each name
    imports its submodule when first read."""
    if package in sys.modules:
        return sys.modules[package]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{package} is not a package")
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        setattr(module, name, value)
        return value

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)
    return module


class _DeferredModule(ModuleType):
    """A module made from its spec but not run: reading an attribute it has not got runs it.

    Not ``importlib.util.LazyLoader``: its module runs at any attribute read, ``__spec__``
    included, which Python 3.11's ``import`` reads of a module already in ``sys.modules``.
    """

    def __getattr__(self, name: str) -> object:
        with _DEFERRED_LOCK:
            if type(self) is _DeferredModule and self.__name__ not in _RUNNING:
                _RUNNING.add(self.__name__)  # its own ``from . import x`` reads it while it runs
                try:
                    loader = self.__spec__.loader if self.__spec__ is not None else None
                    if loader is None:
                        raise ImportError(f"no loader for {self.__name__!r}")
                    loader.exec_module(self)
                    self.__class__ = ModuleType  # type: ignore[assignment]  # a plain module now
                finally:
                    _RUNNING.discard(self.__name__)
        return ModuleType.__getattribute__(self, name)


_DEFERRED_LOCK = threading.RLock()
_RUNNING: set[str] = set()


def defer_module(name: str) -> ModuleType:
    """Put ``name`` in ``sys.modules`` (and on its parent package) as a module whose code runs
    when an attribute it does not have yet is first read; a no-op when it is already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)  # imports the parent package, as importing name would
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredModule
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


for _name in LAZY_MODULES:  # first: finding moto.batch imports moto (and these)
    defer_module(_name)
for _package, _names in LAZY_PACKAGES.items():
    defer_package_models(_package, _names)
