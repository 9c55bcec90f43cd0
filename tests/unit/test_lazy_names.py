"""Package names served on first use (stratoflow._lazy): the right object, kept, and a clear error."""

from __future__ import annotations

from types import ModuleType

import pytest

from stratoflow import client, define, runtime


@pytest.mark.parametrize(
    ("package", "name", "module"),
    [
        (define, "LaunchPlan", "stratoflow.define._launch_plan"),
        (runtime, "decide_branch", "stratoflow.runtime._branch"),
        (client, "Client", "stratoflow.client._client"),
    ],
)
def test_a_lazy_name_is_its_modules_object_and_is_kept(package: object, name: str, module: str) -> None:
    value = getattr(package, name)
    assert value.__module__ == module
    assert vars(package)[name] is value  # later reads are plain attribute reads


@pytest.mark.parametrize("package", [define, runtime, client])
def test_an_unknown_name_is_an_attribute_error_naming_the_package(package: ModuleType) -> None:
    missing = "no_such_name"
    with pytest.raises(AttributeError, match=rf"^module '{package.__name__}' has no attribute '{missing}'$"):
        getattr(package, missing)
