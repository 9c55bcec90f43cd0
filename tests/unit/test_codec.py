"""The value codec: every supported type round-trips; big values go to blobs; files count by content."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Optional, Union

import pydantic
import pytest

from stratoflow import Directory, File, ir, values
from stratoflow.values import INLINE_LIMIT_BYTES, LiteralRef, LocalBlobStore, typeref_of
from tests.http_server import serving


@dataclasses.dataclass
class Point:
    x: float
    y: float
    label: str | None = None


@dataclasses.dataclass
class Shape:
    name: str
    points: list[Point]
    tags: dict[str, int]


class Order(pydantic.BaseModel):
    id: int
    items: list[str]
    note: str | None = None


@dataclasses.dataclass
class WithFile:
    title: str
    attachment: File


@dataclasses.dataclass
class HasComplex:  # datetime.date was the example until dates became supported
    when: complex


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "store")


def roundtrip(value: object, annotation: Any, store: LocalBlobStore) -> tuple[Any, LiteralRef]:
    t = typeref_of(annotation)
    literal = values.encode(value, t, store)
    # Literals travel as JSON (state payloads, cache items): go through it too.
    wire = LiteralRef.from_json(json.loads(json.dumps(literal.to_json())))
    assert wire == literal
    return values.decode(wire, t, store), literal


SCALARS = [
    (int, 42),
    (int, -(2**40)),
    (float, 3.25),
    (float, -0.0),
    (str, "héllo \n wörld ✓"),
    (str, ""),
    (bool, True),
    (bool, False),
    (type(None), None),
    (bytes, b"\x00\x01binary\xff"),
    (list[int], [1, 2, 3]),
    (list[list[str]], [["a"], [], ["b", "c"]]),
    (dict[str, float], {"a": 1.5, "b": -2.0}),
    (dict[str, list[int]], {"k": [1, 2], "empty": []}),
    (Optional[int], None),  # noqa: UP045 - the typing spelling is supported too
    (Optional[int], 7),  # noqa: UP045
    (int | None, 8),
    (list[str | None], ["a", None]),
    (Point, Point(1.0, 2.5)),
    (Point, Point(0.0, -1.0, label="origin-ish")),
    (Shape, Shape("tri", [Point(0, 0), Point(1, 0), Point(0, 1)], {"sides": 3})),
    (list[Point], [Point(1, 2), Point(3, 4)]),
    (Order, Order(id=1, items=["a", "b"])),
    (Order, Order(id=2, items=[], note="rush")),
    (dict[str, Order], {"o": Order(id=3, items=["x"])}),
]


@pytest.mark.parametrize(("annotation", "value"), SCALARS, ids=[repr(v)[:40] for _, v in SCALARS])
def test_value_round_trips(annotation: Any, value: object, store: LocalBlobStore) -> None:
    decoded, literal = roundtrip(value, annotation, store)
    assert decoded == value
    assert type(decoded) is type(value)
    assert literal.uri is None  # small values travel inline


def test_int_feeding_a_float_is_decoded_as_float(store: LocalBlobStore) -> None:
    decoded, _ = roundtrip(3, float, store)
    assert decoded == 3.0
    assert isinstance(decoded, float)


def test_equal_values_have_equal_hashes_and_different_values_do_not(store: LocalBlobStore) -> None:
    t = typeref_of(dict[str, int])
    a = values.encode({"x": 1, "y": 2}, t, store)
    b = values.encode({"y": 2, "x": 1}, t, store)  # key order does not matter (canonical JSON)
    c = values.encode({"x": 1, "y": 3}, t, store)
    assert a.hash == b.hash
    assert a.hash != c.hash
    assert len(a.hash) == 64


def test_large_value_goes_to_a_blob_and_the_literal_stays_small(store: LocalBlobStore) -> None:
    big = [f"row-{i:06d}" for i in range(20_000)]
    decoded, literal = roundtrip(big, list[str], store)
    assert decoded == big
    assert literal.uri is not None
    assert literal.value is None
    assert literal.size > INLINE_LIMIT_BYTES
    assert Path(literal.uri).is_file()
    assert Path(literal.uri).resolve().is_relative_to(store.root.resolve())
    assert len(json.dumps(literal.to_json())) < 400  # only {h, uri, size} travels
    # The hash is the value's, not the storage location's: the same value inline-or-not hashes alike.
    again = values.encode(list(big), typeref_of(list[str]), store)
    assert again.hash == literal.hash
    assert again.uri == literal.uri  # content-addressed: stored once


def test_value_just_under_the_limit_stays_inline(store: LocalBlobStore) -> None:
    text = "x" * (INLINE_LIMIT_BYTES - 10)
    _, literal = roundtrip(text, str, store)
    assert literal.uri is None
    _, literal = roundtrip("x" * (INLINE_LIMIT_BYTES + 10), str, store)
    assert literal.uri is not None


def test_file_round_trips_through_the_blob_store(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(b"a,b\n1,2\n")
    decoded, literal = roundtrip(File(src), File, store)
    assert isinstance(decoded, File)
    assert decoded.name == "data.csv"
    with decoded.open("rb") as handle:
        assert handle.read() == b"a,b\n1,2\n"
    # The stored copy is independent of the original path.
    src.unlink()
    assert Path(decoded.download()).read_bytes() == b"a,b\n1,2\n"
    assert isinstance(literal.value, dict)
    assert literal.value["size"] == 8


def test_file_inside_a_dataclass_round_trips(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "note.txt"
    src.write_text("attached", encoding="utf-8")
    decoded, _ = roundtrip(WithFile("t", File(src)), WithFile, store)
    assert decoded.title == "t"
    assert Path(decoded.attachment.download()).read_text(encoding="utf-8") == "attached"


def test_file_identity_hash_depends_on_contents_not_path(tmp_path: Path, store: LocalBlobStore) -> None:
    t = typeref_of(File)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = tmp_path / "a" / "x.txt", tmp_path / "b" / "other-name.txt"
    one.write_text("same contents", encoding="utf-8")
    two.write_text("same contents", encoding="utf-8")
    h_one = values.encode(File(one), t, store).hash
    assert values.encode(File(two), t, store).hash == h_one
    one.write_text("changed contents", encoding="utf-8")
    assert values.encode(File(one), t, store).hash != h_one
    # ...and the same holds for files nested in containers and dataclasses.
    lt = typeref_of(list[File])
    assert values.encode([File(two)], lt, store).hash != values.encode([File(one)], lt, store).hash
    dt = typeref_of(WithFile)
    assert (
        values.encode(WithFile("t", File(two)), dt, store).hash
        == values.encode(WithFile("t", File(tmp_path / "b" / "other-name.txt")), dt, store).hash
    )


def test_directory_round_trips_and_hashes_by_tree(tmp_path: Path, store: LocalBlobStore) -> None:
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "top.txt").write_text("top", encoding="utf-8")
    (root / "sub" / "leaf.bin").write_bytes(b"\x00leaf")
    decoded, literal = roundtrip(Directory(root), Directory, store)
    assert isinstance(decoded, Directory)
    local = Path(decoded.download())
    assert (local / "top.txt").read_text(encoding="utf-8") == "top"
    assert (local / "sub" / "leaf.bin").read_bytes() == b"\x00leaf"
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()) == [
        "sub/leaf.bin",
        "top.txt",
    ]
    copy = tmp_path / "copy"
    (copy / "sub").mkdir(parents=True)
    (copy / "top.txt").write_text("top", encoding="utf-8")
    (copy / "sub" / "leaf.bin").write_bytes(b"\x00leaf")
    t = typeref_of(Directory)
    assert values.encode(Directory(copy), t, store).hash == literal.hash
    (copy / "sub" / "leaf.bin").write_bytes(b"\x00LEAF")
    assert values.encode(Directory(copy), t, store).hash != literal.hash
    (copy / "sub" / "leaf.bin").rename(copy / "moved.bin")
    assert values.encode(Directory(copy), t, store).hash != literal.hash


def test_missing_file_is_a_value_type_error(tmp_path: Path, store: LocalBlobStore) -> None:
    with pytest.raises(values.ValueTypeError) as caught:
        values.encode(File(tmp_path / "absent.txt"), typeref_of(File), store)
    assert str(caught.value) == f"File: '{tmp_path / 'absent.txt'}' does not exist"
    with pytest.raises(values.ValueTypeError, match=r"is a directory, not a file$"):
        values.encode(File(tmp_path), typeref_of(File), store)
    with pytest.raises(values.ValueTypeError, match=r"^Directory: '.*absent' does not exist$"):
        values.encode(Directory(tmp_path / "absent"), typeref_of(Directory), store)
    with pytest.raises(values.ValueTypeError, match=r"is a URI; a Directory input is a local path$"):
        values.encode(Directory("s3://bucket/folder/"), typeref_of(Directory), store)
    with pytest.raises(values.ValueTypeError) as scheme:
        values.encode(File("gs://bucket/a.csv"), typeref_of(File), store)
    assert str(scheme.value) == (
        "File: unsupported URI scheme 'gs' in 'gs://bucket/a.csv' (a local path, s3:// or http(s):// URL)"
    )


def test_a_url_file_is_downloaded_once_and_stored_by_its_contents(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "biostats.csv").write_text("name,age\nAlex,41\n")
    with serving(served) as base:
        literal = values.encode(File(f"{base}/biostats.csv?raw=1"), typeref_of(File), store)
        missing = r"^File: cannot download '.*/nope.csv': HTTP 404 File not found$"
        with pytest.raises(values.ValueTypeError, match=missing):
            values.encode(File(f"{base}/nope.csv"), typeref_of(File), store)
    # Served no more: the stored copy is what the run reads, named after the URL's path.
    file = values.decode(literal, typeref_of(File), store)
    assert (file.name, Path(file.download()).read_text()) == ("biostats.csv", "name,age\nAlex,41\n")
    assert literal.hash == values.encode(File(served / "biostats.csv"), typeref_of(File), store).hash


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        (int, "3", "expected int, got str '3'"),
        (int, True, "expected int, got bool True"),
        (int, 2.0, "expected int, got float 2.0"),
        (float, float("nan"), "expected float, got float nan"),
        (str, None, "expected str, got NoneType None"),
        (list[int], [1, "2", 3], "expected int at [1], got str '2'"),
        (dict[str, int], {"a": 1, "b": "x"}, "expected int at ['b'], got str 'x'"),
        (dict[str, int], {1: 1}, "expected dict[str, int], got dict {1: 1}"),
        (Point, Point(1, "up"), "expected float at .y, got str 'up'"),
        (Order, {"id": 1, "items": []}, "expected Order, got dict"),
        (bytes, "text", "expected bytes, got str 'text'"),
    ],
)
def test_wrong_values_raise_value_type_error_saying_where(
    annotation: Any, value: object, message: str, store: LocalBlobStore
) -> None:
    with pytest.raises(values.ValueTypeError) as info:
        values.encode(value, typeref_of(annotation), store)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (complex, "type 'complex' is not supported (supported: int, float, str, bool, None, bytes"),
        (set[int], "type 'set' is not supported"),
        (Union[int, str], "unions other than Optional[T] are not supported"),  # noqa: UP007
        (int | str | None, "unions other than Optional[T] are not supported"),
        (dict[list[int], str], "dict keys must be str, int, float, bool or an Enum, e.g. dict[str, float]"),
        (list, "bare 'list' needs type arguments"),
        (tuple[int, int], "type 'tuple' is not supported"),
        (Any, "is not supported"),
        (HasComplex, "type 'complex' is not supported"),
    ],
)
def test_unsupported_annotations_raise_a_clear_error(annotation: Any, message: str) -> None:
    with pytest.raises(values.UnsupportedTypeError) as info:
        typeref_of(annotation)
    assert message in str(info.value)
    assert isinstance(info.value, TypeError)


def test_typeref_of_maps_annotations() -> None:
    assert typeref_of(list[dict[str, File]]) == ir.TypeRef(
        kind="list",
        args=(ir.TypeRef(kind="dict", args=(ir.TypeRef(kind="str"), ir.TypeRef(kind="file"))),),
    )
    assert typeref_of(Optional[Directory]) == ir.TypeRef(  # noqa: UP045
        kind="optional", args=(ir.TypeRef(kind="directory"),)
    )
    assert typeref_of(Point) == ir.TypeRef(kind="dataclass", ref=f"{__name__}:Point")
    assert typeref_of(Order) == ir.TypeRef(kind="pydantic", ref=f"{__name__}:Order")


def test_coerce_input_turns_json_into_python_values(tmp_path: Path) -> None:
    assert values.coerce_input({"x": 1, "y": 2}, typeref_of(Point)) == Point(1.0, 2.0)
    assert values.coerce_input({"id": 5, "items": ["a"]}, typeref_of(Order)) == Order(id=5, items=["a"])
    assert values.coerce_input(2, typeref_of(float)) == 2.0
    coerced = values.coerce_input(str(tmp_path), typeref_of(Directory))
    assert isinstance(coerced, Directory)
    with pytest.raises(values.ValueTypeError):
        values.coerce_input("seven", typeref_of(int))


@pytest.mark.parametrize("value", [0, -7, 10**40, True, False, None, 1.5, "x", [1, True], {"k": 2}])
def test_canonical_json_of_scalars_is_the_encoders(value: object) -> None:
    # ints take a fast path; every value must still give exactly the JSON encoder's bytes.
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert values.canonical_json(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -7, 10**40])
def test_an_int_literal_is_the_general_encodings(value: int, store: LocalBlobStore) -> None:
    # encode() short-cuts ints; the literal must be the one its canonical JSON gives (hash and value).
    data = values.canonical_json(value)
    assert values.encode(value, typeref_of(int), store) == LiteralRef(
        hash=values.sha256_hex(data), value=value
    )


def test_canonical_json_is_deterministic() -> None:
    assert values.canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'.encode()
    with pytest.raises(ValueError, match="not JSON compliant"):
        values.canonical_json(float("inf"))  # type: ignore[arg-type]


def test_an_untyped_dict_is_a_json_object_as_in_flyte(tmp_path: Path) -> None:
    import typing

    t = typeref_of(dict)
    assert t == typeref_of(typing.Dict) == typeref_of(dict[str, Any])  # noqa: UP006
    assert (t.kind, [a.kind for a in t.args], t.render()) == ("dict", ["str", "json"], "dict")
    store = LocalBlobStore(tmp_path)
    value = {"n": 3, "items": [1, 2.5, "x", None, True], "nested": {"a": (1, 2)}}
    literal = values.encode(value, t, store)
    # Tuples come back as lists (JSON), everything else as it went in.
    assert values.decode(literal, t, store) == {**value, "nested": {"a": [1, 2]}}
    with pytest.raises(values.ValueTypeError, match=r"expected JSON at \['s'\], got set \{1, 2\}"):
        values.encode({"s": {1, 2}}, t, store)
    with pytest.raises(values.ValueTypeError):
        values.encode({1: "int key"}, t, store)
    with pytest.raises(values.ValueTypeError):
        values.encode({"nan": float("nan")}, t, store)
