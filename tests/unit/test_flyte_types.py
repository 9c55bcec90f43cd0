"""Flyte's type surface: dict keys other than str, format-typed files, and the element binding in the IR."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pytest

from stratoflow import Directory, File, FlyteDirectory, FlyteFile, ir, values
from stratoflow.types import directory as flyte_directory
from stratoflow.types import file as flyte_file
from stratoflow.values import LocalBlobStore, typeref_of


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 10


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.mark.parametrize(
    ("annotation", "value", "stored"),
    [
        (dict[int, str], {1: "a", 10: "b", -2: "c"}, {"1": "a", "10": "b", "-2": "c"}),
        (dict[float, int], {1.5: 1, 2.0: 2}, {"1.5": 1, "2.0": 2}),
        (dict[bool, str], {True: "yes", False: "no"}, {"true": "yes", "false": "no"}),
        (dict[Color, int], {Color.RED: 1}, {"red": 1}),
        (dict[Level, list[int]], {Level.HIGH: [1]}, {"10": [1]}),
        (dict[int, dict[int, str]], {1: {2: "x"}}, {"1": {"2": "x"}}),
    ],
)
def test_non_str_keys_round_trip_with_one_json_form(
    store: LocalBlobStore, annotation: Any, value: Any, stored: Any
) -> None:
    t = typeref_of(annotation)
    literal = values.encode(value, t, store)
    assert literal.value == stored
    assert values.decode(literal, t, store) == value
    # Keys written as JSON text on the command line (or --inputs) read back as the key type.
    assert values.coerce_input(json.loads(json.dumps(stored)), t) == value


def test_a_float_keyed_dict_hashes_int_and_float_keys_alike(store: LocalBlobStore) -> None:
    t = typeref_of(dict[float, int])
    assert values.encode({1: 5}, t, store).hash == values.encode({1.0: 5}, t, store).hash


def test_str_keyed_dict_type_ref_is_unchanged() -> None:
    # Specs of existing workflows keep their bytes: the key type is the same TypeRef as before.
    assert typeref_of(dict[str, int]).model_dump(mode="json") == {
        "kind": "dict",
        "args": [{"kind": "str", "args": [], "ref": None}, {"kind": "int", "args": [], "ref": None}],
        "ref": None,
    }


@pytest.mark.parametrize(
    ("annotation", "value"),
    [(dict[int, str], {"1": "a"}), (dict[int, str], {True: "a"}), (dict[Color, int], {"green": 1})],
)
def test_a_key_of_the_wrong_type_is_rejected(annotation: Any, value: Any) -> None:
    with pytest.raises(values.ValueTypeError, match=r"expected dict\["):
        values.check_value(value, typeref_of(annotation))


def test_type_refs_render_their_key_type() -> None:
    assert typeref_of(dict[int, str]).render() == "dict[int, str]"
    assert typeref_of(dict[Color, float]).render() == "dict[Color, float]"


def test_flyte_file_and_directory_are_file_and_directory() -> None:
    assert FlyteFile is File is flyte_file.FlyteFile
    assert FlyteDirectory is Directory is flyte_directory.FlyteDirectory


@pytest.mark.parametrize(
    "spec", [TypeVar("csv"), "csv", Annotated[str, flyte_file.FileExt("csv")]], ids=["typevar", "str", "ext"]
)
def test_format_typed_files_are_one_file_subclass_per_format(spec: Any) -> None:
    csv_file = FlyteFile[spec]
    assert csv_file is flyte_file.CSVFile
    assert csv_file.extension == "csv"
    assert issubclass(csv_file, File)
    assert typeref_of(csv_file) == ir.TypeRef(kind="file")
    made = csv_file(path="rows.csv")
    assert isinstance(made, File)
    assert made.uri == "rows.csv"
    assert FlyteFile[TypeVar("json")] is not csv_file


def test_format_typed_directories() -> None:
    assert flyte_directory.TensorboardLogs.extension == "tensorboard"
    assert typeref_of(flyte_directory.TensorboardLogs) == ir.TypeRef(kind="directory")
    assert typeref_of(list[flyte_file.PNGImageFile]) == ir.TypeRef(
        kind="list", args=(ir.TypeRef(kind="file"),)
    )


def test_a_format_typed_file_round_trips_as_a_file(store: LocalBlobStore, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a,1\n")
    t = typeref_of(flyte_file.CSVFile)
    literal = values.encode(flyte_file.CSVFile(path), t, store)
    decoded = values.decode(literal, t, store)
    assert isinstance(decoded, File)
    assert Path(decoded.download()).read_text() == "a,1\n"


def test_element_binding_json_round_trips_and_reads_its_upstream() -> None:
    inner = ir.PromiseBinding(node="split", output="o0")
    list_type = typeref_of(list[dict[str, int]])
    first = ir.ElementBinding(of=inner, type=list_type, key=0, item_type=list_type.args[0])
    binding = ir.ElementBinding(of=first, type=first.item_type, key="k", item_type=ir.TypeRef(kind="int"))
    node = ir.TaskNode(
        id="use", task="use", inputs={"x": binding}, location=ir.SourceLocation(path="f.py", line=1)
    )
    again = ir.TaskNode.model_validate_json(node.model_dump_json())
    assert again == node
    assert again.upstream() == ["split"]
    assert isinstance(again.inputs["x"], ir.ElementBinding)
    assert again.inputs["x"].of.key == 0  # type: ignore[union-attr]
