"""Keep moto's Batch package from importing its models (and EC2's) until Batch is used.

Imported first by ``stratoflow.testing``: moto's Step Functions interpreter imports the
``JobStatus`` enum from ``moto.batch.utils`` for its Batch integration, and moto's
``moto/batch/__init__.py`` is the single line ``from .models import batch_backends``, which
imports moto's Batch, ECS and EC2 models: about 2 s (EC2 reads its region, AMI and instance
type tables), most of a ``run --sandbox`` whose workflow has only Lambda tasks. Here
``moto.batch`` is the same package, its spec and path found as the import system finds them,
with that one name resolved when first read (``mock_aws``'s ``get_backend("batch")`` reads
it on the first Batch request), so ``moto.batch.utils`` and the interpreter load alone.
A no-op when ``moto.batch`` is already imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

__all__ = ["LAZY_PACKAGES", "defer_package_models"]

LAZY_PACKAGES = {"moto.batch": ("models", ("batch_backends",))}
"""Package -> (the submodule its ``__init__`` imports, the names it takes from it)."""


def defer_package_models(package: str, submodule: str, names: tuple[str, ...]) -> ModuleType:
    """Put ``package`` in ``sys.modules`` without running its ``__init__``, whose only job is
    ``from .<submodule> import <names>``: those names import ``submodule`` when first read."""
    if package in sys.modules:
        return sys.modules[package]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{package} is not a package")
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(module, name, value)
        return value

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    setattr(importlib.import_module(parent), child, module)
    return module


for _package, (_submodule, _names) in LAZY_PACKAGES.items():
    defer_package_models(_package, _submodule, _names)
