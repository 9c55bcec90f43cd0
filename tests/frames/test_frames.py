"""DataFrames and Arrow tables: Parquet blobs known by content, verified on read, equal everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from stratoflow import ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import DefinitionError, IntegrityError
from stratoflow.lower import lower
from stratoflow.values import LocalBlobStore, decode, encode, typeref_of
from tests.frames import frame_flows

FRAME = ir.TypeRef(kind="dataframe")
TABLE = ir.TypeRef(kind="arrow_table")


def _sales(n: int = 4) -> pd.DataFrame:
    return frame_flows.make_sales.fn(n)


def test_annotations_name_the_frame_kinds() -> None:
    assert typeref_of(pd.DataFrame) == FRAME
    assert typeref_of(pa.Table) == TABLE
    assert FRAME.render() == "DataFrame"


def test_a_dataframe_round_trips_with_its_index_and_dtypes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    frame = _sales()
    literal = encode(frame, FRAME, store)
    assert literal.value["format"] == "parquet"  # type: ignore[index]
    back = decode(literal, FRAME, store)
    pd.testing.assert_frame_equal(back, frame)
    assert str(back["units"].dtype) == "int32"
    assert isinstance(back["region"].dtype, pd.CategoricalDtype)


def test_an_arrow_table_round_trips(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    table = pa.table({"x": [1, 2, 3], "y": ["a", "b", None]})
    assert decode(encode(table, TABLE, store), TABLE, store).equals(table)


def test_the_hash_is_the_content_s_not_the_object_s(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    same = encode(_sales(), FRAME, store).hash
    assert encode(_sales(), FRAME, store).hash == same
    changed = _sales()
    changed.loc["r1", "price"] = 99.0
    assert encode(changed, FRAME, store).hash != same


def test_the_hash_is_the_same_in_every_process(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from stratoflow import ir;"
        "from stratoflow.values import LocalBlobStore, encode;"
        "from tests.frames.frame_flows import make_sales;"
        "print(encode(make_sales.fn(6), ir.TypeRef(kind='dataframe'), LocalBlobStore(Path(sys.argv[1]))).hash)"
    )
    hashes = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / str(seed))],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout.strip()
        for seed in range(3)
    }
    assert len(hashes) == 1, hashes


def test_a_frame_whose_blob_was_changed_is_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    literal = encode(_sales(), FRAME, store)
    blob = Path(literal.value["uri"])  # type: ignore[index]
    blob.write_bytes(blob.read_bytes()[:-8] + b"tampered")
    with pytest.raises(IntegrityError, match=r"is corrupted: its sha256 is"):
        decode(literal, FRAME, store)


def test_a_wrong_value_names_the_expected_frame(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"expected DataFrame, got Table"):
        encode(pa.table({"x": [1]}), FRAME, LocalBlobStore(tmp_path))


def test_the_workflow_runs_locally_and_its_cache_hits_in_a_fresh_process(tmp_path: Path) -> None:
    spec = lower(frame_flows.regional_revenue)
    run = run_local(spec, {"n": 9}, RunOptions(home=tmp_path / "home", progress=False))
    summary, total = run.outputs["o0"], run.outputs["o1"]
    expected = frame_flows.by_region.fn(_sales(9))
    pd.testing.assert_frame_equal(summary, expected)
    assert total == pytest.approx(float(expected["revenue"].sum()))

    calls = tmp_path / "calls.txt"
    script = (
        "import sys; from pathlib import Path; from stratoflow.lower import lower;"
        "from stratoflow.backends.local import RunOptions, run_local;"
        "from tests.frames import frame_flows;"
        "run = run_local(lower(frame_flows.regional_revenue), {'n': 9},"
        " RunOptions(home=Path(sys.argv[1]), progress=False)); print(run.outputs['o1'])"
    )
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "fresh-home")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "FRAME_CALLS": str(calls)},
        ).stdout
        assert float(out.strip().splitlines()[-1]) == pytest.approx(total)
    # The second process found make_sales' DataFrame in the cache (and verified its blob).
    assert calls.read_text(encoding="utf-8").split() == ["make_sales"]


def test_an_unsupported_frame_like_type_is_a_definition_error() -> None:
    from stratoflow import task

    with pytest.raises(DefinitionError, match=r"type 'Series' is not supported"):

        @task
        def series(n: int) -> pd.Series:
            return pd.Series(range(n))


@pytest.mark.emulated
def test_the_emulated_aws_gives_the_local_frames(tmp_path: Path) -> None:
    from stratoflow.testing._sandbox import Sandbox

    spec = lower(frame_flows.regional_revenue)
    local = run_local(spec, {"n": 7}, RunOptions(home=tmp_path, progress=False))
    with Sandbox() as sandbox:
        emulated = sandbox.run(spec, {"n": 7}).outputs()
    pd.testing.assert_frame_equal(emulated["o0"], local.outputs["o0"])
    assert emulated["o1"] == local.outputs["o1"]


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stratoflow.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "STRATOFLOW_HOME": str(home)},
        check=False,
    )


def test_the_cli_reads_a_csv_into_a_dataframe_input_and_prints_the_frame_as_json(tmp_path: Path) -> None:
    csv = tmp_path / "sales.csv"
    csv.write_text("region,units,price\nnorth,2,1.5\nsouth,4,2.5\n", encoding="utf-8")
    done = _cli(
        "run", "--json", "tests/frames/frame_flows.py", "summarise", "--sales", str(csv), home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "o0": {"columns": ["revenue"], "index": ["north", "south"], "data": [[3.0], [10.0]]}
    }


def test_a_missing_frame_file_is_one_line_naming_the_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    done = _cli("run", "tests/frames/frame_flows.py", "summarise", "--sales", str(missing), home=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: input 'sales': file '{missing}' does not exist"
