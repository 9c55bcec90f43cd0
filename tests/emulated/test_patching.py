"""Taking one patch out, as a canary does, must not leave moto half patched.

Two patches wrapping one attribute stack: the later one calls the earlier one's function. Taken out
alone, the earlier one left the later one calling it, and the later one's undo put it back: after
``install_ecs_inprocess()()`` and a raw (``uninstall_all``) test, the next harness ran every ECS
task's entrypoint twice (a container's second run hit the cache its first had just written, so the
records parity test saw ``spread_big`` cached and its map items with 0 attempts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from stratoflow.testing import EmulatedAws, _patching, install_all, install_ecs_inprocess, uninstall_all
from stratoflow.testing._patching import Patcher, install_patch, is_installed

pytestmark = pytest.mark.emulated


class _Toy:
    def calls(self) -> list[str]:
        return ["toy"]


_ORIGINAL = vars(_Toy)["calls"]


def _wrapping(tag: str) -> Callable[[Patcher], None]:
    def apply(p: Patcher) -> None:
        orig = _Toy.calls

        def calls(self: _Toy) -> list[str]:
            return [tag, *orig(self)]

        p.setattr(_Toy, "calls", calls)

    return apply


@pytest.fixture
def toy_patches() -> Iterator[None]:
    yield
    for name in ("toy-outer", "toy-other", "toy-inner"):
        if is_installed(name):
            _patching._INSTALLED[name]()
    assert vars(_Toy)["calls"] is _ORIGINAL


@pytest.mark.usefixtures("toy_patches")
def test_taking_a_patch_out_takes_out_the_patches_stacked_on_it() -> None:
    undo_inner = install_patch("toy-inner", _wrapping("inner"))
    install_patch("toy-other", lambda p: p.setattr(_Toy, "other", 1))  # another attribute
    install_patch("toy-outer", _wrapping("outer"))
    assert _Toy().calls() == ["outer", "inner", "toy"]
    undo_inner()
    assert vars(_Toy)["calls"] is _ORIGINAL
    assert not is_installed("toy-outer")  # it called the inner one: out with it
    assert is_installed("toy-other")  # replaced nothing the inner one did: stays
    undo_outer = install_patch("toy-outer", _wrapping("outer"))
    assert _Toy().calls() == ["outer", "toy"]
    undo_outer()
    assert vars(_Toy)["calls"] is _ORIGINAL


def test_taking_any_patch_out_alone_then_uninstalling_all_restores_moto_as_shipped() -> None:
    install_all()
    names = _patching.installed_patches()
    replaced = {
        (id(target), attribute): target
        for patch in names
        for target, attribute in _patching._PATCHERS[patch].replaced()
    }
    uninstall_all()
    try:
        shipped = {key: vars(target).get(key[1]) for key, target in replaced.items()}
        for patch in names:
            install_all()
            _patching._INSTALLED[patch]()  # a canary's "just this patch out"
            install_all()
            uninstall_all()
            now = {key: vars(target).get(key[1]) for key, target in replaced.items()}
            assert now == shipped, f"after {patch} was taken out alone, uninstall_all left moto patched"
    finally:
        install_all()


def test_an_ecs_task_runs_its_entrypoint_once_after_a_canary_took_the_in_process_patch_out() -> None:
    with EmulatedAws():
        install_ecs_inprocess()()  # test_raw_ecs_runs_nothing
    with EmulatedAws(patched=False):  # any raw test after it
        pass
    calls: list[list[str]] = []

    def entrypoint(env: dict[str, str], command: list[str]) -> int:
        calls.append(command)
        return 0

    with EmulatedAws() as aws:
        aws.register_ecs_entrypoint("runner", entrypoint)
        aws.client("ecs").run_task(
            cluster=aws.create_ecs_cluster("c"),
            taskDefinition=aws.create_task_definition("runner"),
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [aws.create_subnet()]}},
            overrides={"containerOverrides": [{"name": "main", "command": ["run"]}]},
        )
    assert calls == [["run"]]
