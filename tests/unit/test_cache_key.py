"""The one cache-key function: identity + version + interface + input hashes, minus ignored inputs."""

from __future__ import annotations

from typing import Any

import pytest

from stratoflow import cache as cache_mod
from stratoflow import ir, task
from stratoflow.cache import cache_key

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


@task(cache=True, cache_version="1", cache_ignore_input_vars=("label",))
def area(width: int, height: int, label: str) -> int:
    return width * height


@task(cache=True)
def unpinned(x: int) -> int:
    return x + 1


@task(cache=True)
def unpinned_edited(x: int) -> int:
    return x + 2


def with_spec(spec: ir.TaskSpec, **update: Any) -> ir.TaskSpec:
    return spec.model_copy(update=update)


def key(spec: ir.TaskSpec, **hashes: str) -> str:
    return cache_key(spec, hashes)


BASE = area.spec
INPUTS = {"width": H1, "height": H2, "label": H3}


def test_key_is_a_stable_sha256() -> None:
    k = key(BASE, **INPUTS)
    assert len(k) == 64
    assert int(k, 16) >= 0
    assert key(BASE, **INPUTS) == k
    # The order inputs arrive in does not matter.
    assert cache_key(BASE, dict(reversed(list(INPUTS.items())))) == k
    # An equal spec built separately gives the same key (nothing depends on object identity).
    assert key(ir.TaskSpec.model_validate_json(BASE.model_dump_json()), **INPUTS) == k


def test_key_changes_with_cache_version() -> None:
    bumped = with_spec(BASE, cache=BASE.cache.model_copy(update={"version": "2"}))
    assert key(bumped, **INPUTS) != key(BASE, **INPUTS)


def test_key_changes_with_task_identity() -> None:
    moved = with_spec(BASE, ref="elsewhere:area")
    assert key(moved, **INPUTS) != key(BASE, **INPUTS)


def _retype(variables: tuple[ir.Variable, ...], name: str, kind: str) -> tuple[ir.Variable, ...]:
    return tuple(
        v.model_copy(update={"type": ir.TypeRef(kind=kind)}) if v.name == name else v  # type: ignore[arg-type]
        for v in variables
    )


@pytest.mark.parametrize(
    "update",
    [
        pytest.param({"inputs": _retype(BASE.inputs, "width", "float")}, id="input-type"),
        pytest.param({"outputs": _retype(BASE.outputs, "o0", "float")}, id="output-type"),
        pytest.param(
            {
                "inputs": tuple(
                    v.model_copy(update={"name": "w"}) if v.name == "width" else v for v in BASE.inputs
                )
            },
            id="input-name",
        ),
        pytest.param(
            {"outputs": (*BASE.outputs, ir.Variable(name="o1", type=ir.TypeRef(kind="str")))},
            id="extra-output",
        ),
    ],
)
def test_key_changes_with_the_interface(update: dict[str, Any]) -> None:
    changed = with_spec(BASE, **update)
    hashes = dict(INPUTS)
    if any(v.name == "w" for v in changed.inputs):
        hashes["w"] = hashes.pop("width")
    assert cache_key(changed, hashes) != key(BASE, **INPUTS)


def test_key_changes_with_any_used_input() -> None:
    base = key(BASE, **INPUTS)
    assert key(BASE, width=H2, height=H2, label=H3) != base
    assert key(BASE, width=H1, height=H1, label=H3) != base
    # Swapping values between inputs is a different call too.
    assert key(BASE, width=H2, height=H1, label=H3) != base


def test_key_ignores_cache_ignore_input_vars() -> None:
    assert BASE.cache.ignore_inputs == ("label",)
    assert key(BASE, width=H1, height=H2, label=H1) == key(BASE, **INPUTS)
    assert key(BASE, width=H1, height=H2) == key(BASE, **INPUTS)
    # ...but only those: without the ignore list the label counts.
    counted = with_spec(BASE, cache=BASE.cache.model_copy(update={"ignore_inputs": ()}))
    assert key(counted, width=H1, height=H2, label=H1) != key(counted, **INPUTS)


def test_key_does_not_depend_on_execution_policy() -> None:
    # Retries, resources and timeouts change how a task runs, not what it computes.
    tuned = with_spec(BASE, retries=5, timeout_seconds=60, requests=ir.ResourcesSpec(cpu=2, memory_mib=4096))
    assert key(tuned, **INPUTS) == key(BASE, **INPUTS)


def test_unpinned_version_is_a_hash_of_the_source() -> None:
    assert unpinned.spec.cache.version == f"src:{unpinned.spec.code_hash[:16]}"
    assert unpinned_edited.spec.cache.version != unpinned.spec.cache.version
    assert area.spec.cache.version == "1"  # an explicit version pins it


def test_literal_hashes_feed_the_key() -> None:
    from stratoflow import values

    t = ir.TypeRef(kind="int")
    three = values.encode(3, t, _NoStore()).hash
    four = values.encode(4, t, _NoStore()).hash
    assert three != four
    assert cache_key(unpinned.spec, {"x": three}) != cache_key(unpinned.spec, {"x": four})


class _NoStore:
    """Small values never reach a blob store; any call here fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"blob store used: {name}")


def test_the_interface_json_is_the_type_refs_model_dump() -> None:
    # The key hashes this JSON; it is built by hand (no serializer build) and must not drift.
    optional = ir.TypeRef(kind="optional", args=(BASE.inputs[0].type,))
    nested = ir.TypeRef(kind="dict", args=(ir.TypeRef(kind="str"), optional))
    for t in (nested, BASE.inputs[0].type, ir.TypeRef(kind="dataclass", ref="m:C")):
        assert cache_mod._typeref_json(t) == t.model_dump(mode="json")


def test_the_key_is_the_sha256_of_the_whole_payloads_canonical_json() -> None:
    # The key's tail is encoded once per task: it must stay the bytes the whole payload encodes to
    # (a key that changed would miss every entry users have, locally and in DynamoDB).
    import hashlib

    from stratoflow.values import canonical_json

    payload = {
        "task": BASE.ref,
        "version": BASE.cache.version,
        "interface": {
            "inputs": [[v.name, v.type.model_dump(mode="json")] for v in BASE.inputs],
            "outputs": [[v.name, v.type.model_dump(mode="json")] for v in BASE.outputs],
        },
        "inputs": {"height": H2, "width": H1},  # label is ignored
    }
    expected = hashlib.sha256(canonical_json(payload)).hexdigest()
    assert key(BASE, **INPUTS) == expected
    assert key(BASE, **INPUTS) == expected  # the second call reads the encoded tail
    assert cache_key(unpinned.spec, {"x": H1}) != cache_key(unpinned_edited.spec, {"x": H1})


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"x": H1},
        {"width": H1, "height": H2, "a_1": H1},  # written directly: sorted as the encoder sorts
        {"naïve": H1},  # not ASCII: the encoder's
        {"x": 'quote"d'},  # something to escape: the encoder's
    ],
)
def test_the_inputs_json_is_canonical_json(inputs: dict[str, str]) -> None:
    from stratoflow.values import canonical_json

    assert cache_mod._inputs_json(inputs) == canonical_json(dict(inputs))
