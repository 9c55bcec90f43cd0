"""pydantic models holding files, directories and tables (flytesnacks' ``pydantic_basemodel.py``).

The model's plain fields travel as pydantic dumps them; its File, Directory and StructuredDataset
fields are stored by contents as a task's own outputs are, so the next task reads them back, the
cache knows them by their contents, and a changed file behind the same path is a miss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from stratoflow import Directory, File, StructuredDataset, task
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import DefinitionError
from stratoflow.lower import lower
from stratoflow.values import LocalBlobStore, decode, encode, typeref_of
from tests.flyte_compat.flows.data_types_and_io import pydantic_basemodel as docs


class Report(BaseModel):
    title: str
    data: File
    extras: list[File] = []
    folder: Directory | None = None


class Mixed(BaseModel):  # a model may hold it; a task cannot carry it
    thing: File | int


class Table(BaseModel):
    frame: StructuredDataset


def _run(wf: Any, home: Path, inputs: dict[str, Any] | None = None) -> Any:
    return run_local(lower(wf), inputs or {}, RunOptions(home=home, progress=False, retry_base_seconds=0.01))


def test_the_docs_workflow_uploads_and_reads_back_every_kind(tmp_path: Path) -> None:
    # download_data asserts the frame, the file's text and the folder's listing: it ran, or the run failed.
    outputs = _run(docs.basemodel_wf, tmp_path, {"x": 10, "y": 20}).outputs
    assert outputs["o0"] == docs.Datum(x=30, y="1020", z={10: "10", 20: "20"})
    stored = outputs["o1"]
    assert isinstance(stored, docs.FlyteTypes)
    assert Path(stored.file).read_text() == "Hello, World!"
    assert sorted(p.name for p in Path(stored.directory).iterdir()) == ["df.parquet"]
    assert stored.dataframe.open(docs.pd.DataFrame).all()["Age"].tolist() == [20, 22]


def test_a_model_field_takes_a_file_or_a_path(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    assert Report(title="t", data=str(path)).data.uri == str(path)
    assert Report(title="t", data=File(path)).model_dump(mode="json")["data"] == str(path)
    with pytest.raises(ValueError, match="expected a File or a path, got int"):
        Report(title="t", data=3)  # type: ignore[arg-type]


def test_file_fields_are_stored_by_contents_and_known_by_them(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    report_type = typeref_of(Report)
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("same")
    two.write_text("same")
    first = encode(Report(title="t", data=File(one), extras=[File(two)]), report_type, store)
    second = encode(Report(title="t", data=File(two), extras=[File(one)]), report_type, store)
    assert first.hash == second.hash  # same contents behind other paths: one identity
    one.write_text("changed")
    assert (
        encode(Report(title="t", data=File(one), extras=[File(two)]), report_type, store).hash != first.hash
    )
    back = decode(second, report_type, store)
    assert isinstance(back, Report) and back.title == "t"
    assert Path(back.data).read_text() == Path(back.extras[0]).read_text() == "same"
    assert back.data.uri.startswith(str(tmp_path / "blobs"))  # the stored copy, not the user's path


def test_a_cached_task_misses_when_the_models_file_changes(tmp_path: Path) -> None:
    from stratoflow import workflow

    calls: list[str] = []

    @task(cache=True, cache_version="1")
    def read(report: Report) -> str:
        calls.append(report.title)
        return Path(report.data).read_text()

    @workflow
    def read_wf(report: Report) -> str:
        return read(report=report)

    data = tmp_path / "data.txt"
    data.write_text("v1")
    home = tmp_path / "home"
    assert _run(read_wf, home, {"report": Report(title="a", data=File(data))}).outputs == {"o0": "v1"}
    assert _run(read_wf, home, {"report": Report(title="a", data=File(data))}).cache_hits == {"read"}
    data.write_text("v2")
    assert _run(read_wf, home, {"report": Report(title="a", data=File(data))}).outputs == {"o0": "v2"}
    assert calls == ["a", "a"]


def test_a_dataset_field_round_trips(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    frame = docs.pd.DataFrame({"a": [1, 2]})
    back = decode(
        encode(Table(frame=StructuredDataset(dataframe=frame)), typeref_of(Table), store),
        typeref_of(Table),
        store,
    )
    assert back.frame.open(docs.pd.DataFrame).all()["a"].tolist() == [1, 2]


def test_a_field_mixing_a_file_with_another_type_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match=r"field 'thing' of 'Mixed': unions other than Optional"):

        @task
        def takes(m: Mixed) -> int:
            return 1
