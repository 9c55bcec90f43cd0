"""StructuredDataset, Deck and ShellTask as Flyte's docs write them, run locally with flytekit's results.

The expected values are worked out from the code as flytekit computes them (the subset of
``simple_sd_wf`` is Age only: 19, 22 and the concatenated 30, with the concatenation's index).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from stratoflow import StructuredDataset, TaskFailedError, cli
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import deck_location
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import LocalRunStorage
from stratoflow.values import LocalBlobStore, encode, typeref_of
from tests.flyte_compat.flows import decks, structured_flows
from tests.flyte_compat.flows.basics import shell_task
from tests.flyte_compat.flows.data_types_and_io import structured_dataset

EXPECTED_SUBSET = pd.DataFrame({"Age": [19, 22, 30]}, index=[0, 1, 0])


def _run(wf: Any, home: Path, inputs: dict[str, Any] | None = None) -> Any:
    return run_local(lower(wf), inputs or {}, RunOptions(home=home, progress=False, retry_base_seconds=0.01))


# --- StructuredDataset ---------------------------------------------------------------------------


def test_the_docs_subset_workflow_gives_flytekits_frame(tmp_path: Path) -> None:
    sd = _run(structured_dataset.simple_sd_wf, tmp_path).outputs["o0"]
    assert isinstance(sd, StructuredDataset)
    pd.testing.assert_frame_equal(sd.open(pd.DataFrame).all(), EXPECTED_SUBSET)
    # Called as Flyte's __main__ does, outside a run: the same frame.
    pd.testing.assert_frame_equal(structured_dataset.simple_sd_wf().open(pd.DataFrame).all(), EXPECTED_SUBSET)


def test_a_csv_annotated_dataset_reads_back_the_frame(tmp_path: Path) -> None:
    sd = _run(structured_dataset.pandas_to_csv_wf, tmp_path).outputs["o0"]
    expected = structured_dataset.generate_pandas_df.fn(19)
    pd.testing.assert_frame_equal(sd.open(pd.DataFrame).all(), expected)
    assert sd.open(pa.Table).all().column_names == ["Name", "Age", "Height"]


def test_pyarrow_map_items_and_a_subset_reader(tmp_path: Path) -> None:
    outputs = _run(structured_flows.weather, tmp_path).outputs
    # temps 10..16: mean 13; items c0 (ids 0,3,6), c1 (1,4), c2 (2,5): hottest of each, two columns only.
    assert outputs == {
        "o0": 13.0,
        "o1": ["c0:['city', 'temp']", "c1:['city', 'temp']", "c2:['city', 'temp']"],
        "o2": 7,
    }


def test_a_missing_column_is_a_clear_task_failure(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as failed:
        _run(structured_flows.missing_column_wf, tmp_path)
    assert failed.value.node == "wants_missing"
    assert "the table has no column 'rain' (its columns: city, temp, id)" in str(failed.value)


def test_a_dataset_from_a_local_uri_is_known_by_its_contents(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    parquet, csv = tmp_path / "in.parquet", tmp_path / "in.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    assert _run(structured_flows.uri_wf, tmp_path, {"path": str(parquet)}).outputs == {"o0": ["a", "b"]}
    store = LocalBlobStore(tmp_path / "blobs")
    sd_type = typeref_of(StructuredDataset)
    hashes = {
        encode(StructuredDataset(uri=str(parquet)), sd_type, store).hash,
        encode(StructuredDataset(dataframe=frame), sd_type, store).hash,
        encode(StructuredDataset(dataframe=pa.Table.from_pandas(frame)), sd_type, store).hash,
    }
    assert len(hashes) == 1  # a pandas-written file, the frame, and its Table: one content
    from_csv = StructuredDataset(uri=str(csv)).open(pd.DataFrame).all()
    assert from_csv.to_dict("list") == frame.to_dict("list")  # CSV has no dtypes to keep: values only
    changed = frame.assign(a=[1, 3])
    assert encode(StructuredDataset(dataframe=changed), sd_type, store).hash not in hashes


def test_equal_datasets_hit_the_cache(tmp_path: Path) -> None:
    from stratoflow import task, workflow

    calls: list[int] = []

    @task(cache=True, cache_version="1")
    def total(sd: StructuredDataset) -> int:
        calls.append(1)
        return int(sd.open(pd.DataFrame).all()["id"].sum())

    @workflow
    def totals(n: int) -> int:
        return total(sd=structured_flows.readings(n=n))

    first, second = _run(totals, tmp_path, {"n": 5}), _run(totals, tmp_path, {"n": 5})
    assert first.outputs == second.outputs == {"o0": 10}
    assert len(calls) == 1 and second.cache_hits == {"total"}


def test_the_cli_prints_a_dataset_output_as_a_frame(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = cli.main(
        ["run", "--json", "tests/flyte_compat/flows/data_types_and_io/structured_dataset.py", "simple_sd_wf"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out) == {"o0": {"columns": ["Age"], "index": [0, 1, 0], "data": [[19], [22], [30]]}}


# --- Deck ----------------------------------------------------------------------------------------


def test_decks_are_stored_per_node_under_the_run(tmp_path: Path) -> None:
    run = _run(decks.wf, tmp_path)
    assert run.outputs == {
        "o0": "#Hello Flyte\n##Hello Flyte\n###Hello Flyte",
        "o1": 6,
        "o2": 4,
        "o3": [2, 4],
    }
    storage, name = LocalRunStorage(tmp_path), lower(decks.wf).name
    page = Path(deck_location(storage, name, run.run_id, "t1") or "").read_text(encoding="utf-8")
    assert Path(deck_location(storage, name, run.run_id, "t1") or "") == tmp_path / protocol.deck_key(
        name, run.run_id, "t1"
    )
    assert "<h2>demo</h2>" in page and "<h2>default</h2>" in page
    assert "<h1>Hello Flyte</h1>" not in page  # "#Hello" is no heading in CommonMark (no space)
    # TopFrameRenderer(2): pandas' max_rows=2, the first and last rows around "...".
    assert "<p>#Hello Flyte" in page and "<td>...</td>" in page and "<td>1</td>" not in page
    assert "<p>a is 3</p>" in Path(deck_location(storage, name, run.run_id, "t2") or "").read_text(
        encoding="utf-8"
    )
    assert deck_location(storage, name, run.run_id, "t3") is None  # no enable_deck: nothing stored
    assert "<p>a is 2</p>" in Path(deck_location(storage, name, run.run_id, "map_t2[1]") or "").read_text(
        "utf-8"
    )


# --- ShellTask -----------------------------------------------------------------------------------


def test_the_docs_shell_workflow(tmp_path: Path) -> None:
    out = _run(shell_task.wf, tmp_path).outputs["o0"]
    # task_3 reads y as create_entities made it (each task gets its own copy, as on a Flyte cluster):
    # no test.txt there, so `cat` fails inside the pipe and `wc -m` counts 0.
    assert Path(out).read_text(encoding="utf-8").strip() == "0"


def test_shell_steps_edit_their_own_copy_and_archive_the_folder(tmp_path: Path) -> None:
    assert _run(shell_task.steps_wf, tmp_path).outputs == {
        "o0": "Showcasing Flyte's Shell Task.\nFound it!\n",
        "o1": 2,  # .gitkeep and test.txt
    }


def test_a_failing_script_fails_the_node_with_its_stderr_tail(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as failed:
        _run(shell_task.failing_wf, tmp_path)
    assert failed.value.node == "failing"
    assert failed.value.error_type == "FlyteRecoverableException"
    assert str(failed.value).endswith(
        "shell task 'failing' failed with exit code 3: starting | "
        "ls: cannot access '/nonexistent-folder': No such file or directory"
    )


def test_a_shell_task_called_outside_a_workflow_runs_the_script(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("", encoding="utf-8")
    result = shell_task.t1(x=source)
    assert Path(result).read_text(encoding="utf-8") == "Showcasing Flyte's Shell Task.\nFound it!\n"
    assert source.read_text(encoding="utf-8") == ""  # the script edited a copy
    assert shell_task.t1.result is not None and shell_task.t1.result.returncode == 0


def test_the_cli_takes_a_parquet_folder_for_a_dataset_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "sd"
    folder.mkdir()
    pd.DataFrame({"x": [1], "y": [2]}).to_parquet(folder / "00000")  # Flyte's layout: a folder of parts
    target = "tests.flyte_compat.flows.structured_flows"
    code = cli.main(["run", "--json", target, "uri_columns_wf", "--sd", str(folder)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out) == {"o0": ["x", "y"]}


def test_a_cached_dataset_whose_blob_is_gone_is_recomputed(tmp_path: Path) -> None:
    from stratoflow import task, workflow

    calls: list[int] = []

    @task(cache=True, cache_version="1")
    def made(n: int) -> StructuredDataset:
        calls.append(n)
        return StructuredDataset(dataframe=pd.DataFrame({"v": list(range(n))}))

    @task
    def size(sd: StructuredDataset) -> int:
        return len(sd.open(pd.DataFrame).all())

    @workflow
    def sized(n: int) -> int:
        return size(sd=made(n=n))

    assert _run(sized, tmp_path, {"n": 4}).outputs == {"o0": 4}
    assert _run(sized, tmp_path, {"n": 4}).cache_hits == {"made"}
    assert len(calls) == 1
    for path in (tmp_path / "blobs").rglob("*"):
        if path.is_file() and path.read_bytes()[:4] == b"PAR1":
            path.unlink()  # the table's Parquet blob
    assert _run(sized, tmp_path, {"n": 4}).outputs == {"o0": 4}
    assert len(calls) == 2  # the entry naming a missing blob was a miss


def test_subproc_execute_returns_output_and_raises_with_stderr() -> None:
    from stratoflow.extras.tasks.shell import subproc_execute

    assert subproc_execute(["sh", "-c", "echo out; echo err >&2"]).output == "out\n"
    with pytest.raises(RuntimeError, match=r"Failed with return code 4:\nboom"):
        subproc_execute(["sh", "-c", "echo boom >&2; exit 4"])
    with pytest.raises(RuntimeError, match=r"executable could not be found"):
        subproc_execute(["/nonexistent/tool"])
