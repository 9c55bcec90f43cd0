"""Integrity locally: blobs are verified on read and healed on write; malformed or forged cache
entries are misses that recompute and are replaced; a corrupted real input fails its node by name."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError, cli
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import SqliteCacheStore
from stratoflow.errors import IntegrityError
from stratoflow.lower import lower
from stratoflow.runtime import NodeContext, run_node
from stratoflow.runtime._outputs import InMemoryOutputStore
from stratoflow.values import LocalBlobStore, encode
from tests.local import _cache_tasks as ct
from tests.local._tasks import count

N = 5000  # big enough for big_range's output to be a blob, not inline


def run(wf: Any, options: RunOptions, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, options)


def the_blob(home: Path) -> Path:
    [(_, entry)] = list(SqliteCacheStore(home / "cache.sqlite").entries())
    uri = entry.outputs["o0"].uri
    assert uri is not None
    return Path(uri)


def intact(blob: Path) -> bool:
    return hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b"4999", b"4998"),  # same length, one value changed
        lambda data: data[: len(data) // 2],  # truncated
    ],
    ids=["changed", "truncated"],
)
def test_corrupted_cached_blob_is_a_miss_that_recomputes_and_heals(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path, damage: Any
) -> None:
    marker = tmp_path / "marker"
    run(ct.big, fast_options, n=N, marker=str(marker))
    blob = the_blob(stratoflow_home)
    blob.write_bytes(damage(blob.read_bytes()))
    assert not intact(blob)
    result = run(ct.big, fast_options, n=N, marker=str(marker))
    assert result.outputs == {"o0": list(range(N))}
    assert result.executed == {"big_range"}
    assert count(marker) == 2
    assert intact(blob)  # the recomputed write replaced the bad bytes
    assert run(ct.big, fast_options, n=N, marker=str(marker)).cache_hits == {"big_range"}
    assert count(marker) == 2


def test_cache_clear_and_no_cache_runs_heal_a_corrupted_blob(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    run(ct.big, fast_options, n=N, marker=str(marker))
    blob = the_blob(stratoflow_home)
    blob.write_bytes(b"garbage")
    no_cache = RunOptions(use_cache=False, retry_base_seconds=0.01, progress=False)
    assert run(ct.big, no_cache, n=N, marker=str(marker)).outputs == {"o0": list(range(N))}
    assert intact(blob)
    blob.write_bytes(b"garbage")
    assert cli.main(["cache", "clear"]) == 0
    assert run(ct.big, fast_options, n=N, marker=str(marker)).outputs == {"o0": list(range(N))}
    assert intact(blob)
    assert count(marker) == 3


def test_local_blob_store_refuses_a_corrupted_read(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = b"x" * 100
    uri = store.put_bytes(data, digest=hashlib.sha256(data).hexdigest())
    assert store.get_bytes(uri) == data and store.exists(uri)
    Path(uri).write_bytes(b"y" * 100)
    assert not store.exists(uri)
    with pytest.raises(IntegrityError, match=r"blob .* is corrupted: its sha256 is"):
        store.get_bytes(uri)
    dest = tmp_path / "out" / "copy"
    with pytest.raises(IntegrityError):
        store.download(uri, dest)
    assert not dest.exists()  # nothing half-written, no wrong bytes


def test_corrupted_real_input_fails_the_node_naming_the_input(tmp_path: Path) -> None:
    spec = lower(ct.big)
    blobs = LocalBlobStore(tmp_path)
    task = spec.tasks[spec.nodes[0].task]
    n_type = next(v.type for v in task.inputs if v.name == "n")
    # Feed the node an input whose blob is then damaged (as if changed under the run).
    big_n = encode(list(range(N)), ir_list(n_type), blobs)
    assert big_n.uri is not None
    Path(big_n.uri).write_bytes(b"[1,2,3]")
    outputs = InMemoryOutputStore({"n": big_n, "marker": encode(str(tmp_path / "m"), str_type(), blobs)})
    ctx = NodeContext(run_id="r", spec=spec, blobs=blobs, outputs=outputs, cache=None)
    with pytest.raises(TaskFailedError) as info:
        run_node(ctx, spec.nodes[0].id)
    message = str(info.value)
    assert info.value.error_type == "IntegrityError"
    assert "input 'n'" in message and "is corrupted" in message and "\n" not in message
    assert not (tmp_path / "m").exists()  # the user function never ran


def ir_list(item: Any) -> Any:
    from stratoflow import ir

    return ir.TypeRef(kind="list", args=(item,))


def str_type() -> Any:
    from stratoflow import ir

    return ir.TypeRef(kind="str")


# --- malformed SQLite entries: each is a miss, logged once, recomputed and replaced -------------


def _rewrite_outputs(home: Path, outputs: str, task: str | None = None) -> None:
    with sqlite3.connect(home / "cache.sqlite") as conn:
        conn.execute("UPDATE cache SET outputs = ?", (outputs,))
        if task is not None:
            conn.execute("UPDATE cache SET task = ?", (task,))


def _forged(home: Path) -> str:
    [(_, entry)] = list(SqliteCacheStore(home / "cache.sqlite").entries())
    literal = entry.outputs["o0"].to_json()
    literal["v"] = 999  # a value that is not the one its hash names
    return json.dumps({"o0": literal})


MALFORMED = {
    "invalid-json": lambda home: _rewrite_outputs(home, "{not json"),
    "wrong-shape-list": lambda home: _rewrite_outputs(home, "[1, 2]"),
    "wrong-shape-literal": lambda home: _rewrite_outputs(home, json.dumps({"o0": {"v": 1}})),
    "missing-output": lambda home: _rewrite_outputs(home, "{}"),
    "forged-value": lambda home: _rewrite_outputs(home, _forged(home)),
    "other-task": lambda home: _rewrite_outputs(home, _forged(home).replace("999", "2"), task="x:other"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_sqlite_entry_is_a_logged_miss_that_is_replaced(
    kind: str,
    tmp_path: Path,
    fast_options: RunOptions,
    stratoflow_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = tmp_path / "marker"
    assert run(ct.doubled, fast_options, x=1, marker=str(marker)).outputs == {"o0": 3}
    with sqlite3.connect(stratoflow_home / "cache.sqlite") as conn:
        conn.execute("DELETE FROM cache WHERE task LIKE '%cached_inc'")
    MALFORMED[kind](stratoflow_home)
    with caplog.at_level(logging.WARNING, logger="stratoflow.cache"):
        result = run(ct.doubled, fast_options, x=1, marker=str(marker))
    assert result.outputs == {"o0": 3}
    assert "cached_double" in result.executed
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unusable" in r.getMessage()]
    assert len(warnings) == 1
    assert run(ct.doubled, fast_options, x=1, marker=str(marker)).cache_hits == {
        "cached_double",
        "cached_inc",
    }


def test_a_forged_map_item_entry_is_a_miss_that_recomputes_that_item_alone(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker, flag = tmp_path / "marker", tmp_path / "flag"
    xs = list(range(150))  # more than one slice of look-ups
    run(ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert count(marker) == 150
    with sqlite3.connect(stratoflow_home / "cache.sqlite") as conn:
        (key, outputs), *_ = conn.execute("SELECT key, outputs FROM cache ORDER BY key").fetchall()
        forged = json.loads(outputs)
        forged["o0"]["v"] = -1  # a value its hash does not match
        conn.execute("UPDATE cache SET outputs = ? WHERE key = ?", (json.dumps(forged), key))
    result = run(ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert result.outputs == {"o0": [x * x for x in xs]}
    assert count(marker) == 151  # only the forged item ran again
