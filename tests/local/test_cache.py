"""Cache proofs: hits across processes; misses on version, interface, input, file content and body
edits; failures never cached; lost blobs recomputed; the SQLite store under concurrent writers."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError, cli
from stratoflow import cache as cache_module
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import CacheEntry, CacheEntryError, SqliteCacheStore, enable_wal
from stratoflow.lower import lower
from stratoflow.values import LiteralRef
from tests.local import _cache_tasks as ct
from tests.local._tasks import count

CACHE_TASKS_FILE = Path(ct.__file__)


def run(wf: Any, options: RunOptions, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, options)


def store_of(home: Path) -> SqliteCacheStore:
    return SqliteCacheStore(home / "cache.sqlite")


def cli_run_fresh_process(env: dict[str, str], target: Path, workflow: str, **inputs: Any) -> Any:
    """``stratoflow run --inputs ... --json TARGET WORKFLOW`` in a new Python process; its outputs."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stratoflow.cli",
            "run",
            "--inputs",
            json.dumps(inputs),
            "--json",
            str(target),
            workflow,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- (1) a hit in a fresh process ------------------------------------------------------------------


def test_second_run_in_a_fresh_process_is_served_from_the_cache(
    tmp_path: Path, subprocess_env: dict[str, str], stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    first = cli_run_fresh_process(subprocess_env, CACHE_TASKS_FILE, "doubled", x=20, marker=str(marker))
    assert first == {"o0": 41}
    assert count(marker) == 2  # both tasks ran
    second = cli_run_fresh_process(subprocess_env, CACHE_TASKS_FILE, "doubled", x=20, marker=str(marker))
    assert second == first
    assert count(marker) == 2  # neither body ran again
    pids = set(marker.read_text().split())
    assert len(pids) == 1  # and the bodies ran in the first child process, not this one
    assert str(os.getpid()) not in pids
    assert len(list(store_of(stratoflow_home).entries())) == 2


# --- (2), (3), (6): edits to the task's module, each run in a fresh process ------------------------

MODULE = """\
from stratoflow import task, workflow


@task(cache=True{version}, cache_ignore_input_vars=("marker",))
def work(x: int, marker: str) -> {returns}:
    with open(marker, "a", encoding="utf-8") as handle:
        handle.write("ran\\n")
    return x * {factor}


@workflow
def wf(x: int, marker: str) -> {returns}:
    return work(x=x, marker=marker)
"""


def module_source(
    version: str | None = None, returns: str = "int", factor: int = 2, comment: str = ""
) -> str:
    pinned = f", cache_version={version!r}" if version is not None else ""
    return comment + MODULE.format(version=pinned, returns=returns, factor=factor)


EDITS = [
    pytest.param({}, {}, True, (6, 6), id="unchanged-source-hits"),
    pytest.param({}, {"factor": 3}, False, (6, 9), id="body-edit-without-version-misses"),
    pytest.param({"version": "1"}, {"version": "1", "factor": 3}, True, (6, 6), id="body-edit-pinned-hits"),
    pytest.param({"version": "1"}, {"version": "2"}, False, (6, 6), id="cache-version-change-misses"),
    pytest.param(
        {"version": "1"}, {"version": "1", "returns": "float"}, False, (6, 6.0), id="interface-change-misses"
    ),
    pytest.param({}, {"comment": "# a comment outside the task\n"}, True, (6, 6), id="edit-elsewhere-hits"),
]


@pytest.mark.parametrize(("before", "after", "hit", "outputs"), EDITS)
def test_module_edits_between_fresh_processes(
    tmp_path: Path,
    subprocess_env: dict[str, str],
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    hit: bool,
    outputs: tuple[Any, Any],
) -> None:
    module = tmp_path / "flows" / "edited_flow.py"
    module.parent.mkdir()
    marker = tmp_path / "marker"
    module.write_text(module_source(**before), encoding="utf-8")
    first = cli_run_fresh_process(subprocess_env, module, "wf", x=3, marker=str(marker))
    module.write_text(module_source(**after), encoding="utf-8")
    second = cli_run_fresh_process(subprocess_env, module, "wf", x=3, marker=str(marker))
    assert count(marker) == (1 if hit else 2)
    assert (first["o0"], second["o0"]) == outputs
    assert type(second["o0"]) is type(outputs[1])


# --- (4) inputs, (5) file contents: in process ------------------------------------------------------


def test_hit_in_process_and_miss_on_input_change(tmp_path: Path, fast_options: RunOptions) -> None:
    marker = tmp_path / "marker"
    first = run(ct.doubled, fast_options, x=1, marker=str(marker))
    assert first.outputs == {"o0": 3}
    assert first.executed == {"cached_double", "cached_inc"}
    again = run(ct.doubled, fast_options, x=1, marker=str(marker))
    assert again.outputs == {"o0": 3}
    assert again.cache_hits == {"cached_double", "cached_inc"}
    assert again.executed == set()
    changed = run(ct.doubled, fast_options, x=2, marker=str(marker))
    assert changed.outputs == {"o0": 5}
    assert changed.executed == {"cached_double", "cached_inc"}
    assert count(marker) == 4
    # The ignored input does not count: another marker path is still a hit.
    other = tmp_path / "other-marker"
    assert run(ct.doubled, fast_options, x=2, marker=str(other)).cache_hits == {"cached_double", "cached_inc"}
    assert count(other) == 0


def test_downstream_hits_when_an_upstream_recomputes_the_same_value(
    tmp_path: Path, fast_options: RunOptions
) -> None:
    marker = tmp_path / "marker"
    run(ct.doubled, fast_options, x=3, marker=str(marker))
    # Drop only the upstream entry: it recomputes 6, and the downstream key (hash of 6) still hits.
    store = store_of(Path(os.environ["STRATOFLOW_HOME"]))
    for key, entry in list(store.entries()):
        if entry.task.endswith(":cached_double"):
            store.delete(key)
    result = run(ct.doubled, fast_options, x=3, marker=str(marker))
    assert result.executed == {"cached_double"}
    assert result.cache_hits == {"cached_inc"}


def test_file_content_change_behind_the_same_path_misses(tmp_path: Path, fast_options: RunOptions) -> None:
    data, marker = tmp_path / "in.txt", tmp_path / "marker"
    data.write_text("first", encoding="utf-8")
    assert run(ct.shouted, fast_options, data=str(data), marker=str(marker)).outputs == {"o0": "FIRST"}
    data.write_text("second", encoding="utf-8")
    assert run(ct.shouted, fast_options, data=str(data), marker=str(marker)).outputs == {"o0": "SECOND"}
    assert count(marker) == 2
    # Same contents at another path: a hit (identity is the contents, never the path).
    moved = tmp_path / "elsewhere.txt"
    moved.write_text("second", encoding="utf-8")
    result = run(ct.shouted, fast_options, data=str(moved), marker=str(marker))
    assert result.outputs == {"o0": "SECOND"}
    assert result.cache_hits == {"shout_file"}
    assert count(marker) == 2


# --- (7) failures, (8) lost blobs ------------------------------------------------------------------


def test_failures_are_never_cached(tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path) -> None:
    marker, flag = tmp_path / "marker", tmp_path / "flag"
    flag.touch()
    with pytest.raises(TaskFailedError, match="is set"):
        run(ct.flagged, fast_options, x=4, marker=str(marker), flag=str(flag))
    assert list(store_of(stratoflow_home).entries()) == []
    flag.unlink()
    result = run(ct.flagged, fast_options, x=4, marker=str(marker), flag=str(flag))
    assert result.outputs == {"o0": 40}
    assert result.executed == {"fails_while_flagged"}
    assert count(marker) == 2
    assert run(ct.flagged, fast_options, x=4, marker=str(marker), flag=str(flag)).cache_hits == {
        "fails_while_flagged"
    }
    assert count(marker) == 2


def test_entry_whose_blobs_are_gone_is_a_miss_that_recomputes(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    n = 5000  # large enough to be stored as a blob, not inline
    assert run(ct.big, fast_options, n=n, marker=str(marker)).outputs == {"o0": list(range(n))}
    [(_, entry)] = list(store_of(stratoflow_home).entries())
    blob = entry.outputs["o0"].uri
    assert blob is not None
    Path(blob).unlink()
    result = run(ct.big, fast_options, n=n, marker=str(marker))
    assert result.outputs == {"o0": list(range(n))}
    assert result.executed == {"big_range"}
    assert count(marker) == 2
    assert Path(blob).is_file()  # written again
    assert run(ct.big, fast_options, n=n, marker=str(marker)).cache_hits == {"big_range"}
    assert count(marker) == 2


def test_map_items_are_cached_one_by_one(tmp_path: Path, fast_options: RunOptions) -> None:
    marker, flag = tmp_path / "marker", tmp_path / "flag"
    flag.touch()
    xs = [0, 1, 2, 3]
    with pytest.raises(TaskFailedError, match="1 of 4 items failed"):
        run(ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert count(marker) == 4
    flag.unlink()
    result = run(ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert result.outputs == {"o0": [0, 1, 4, 9]}
    assert count(marker) == 5  # only the failed item ran again


def test_no_cache_option_neither_reads_nor_writes(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    options = RunOptions(use_cache=False, retry_base_seconds=0.01, progress=False)
    run(ct.doubled, options, x=1, marker=str(marker))
    assert list(store_of(stratoflow_home).entries()) == []
    run(ct.doubled, fast_options, x=1, marker=str(marker))
    run(ct.doubled, options, x=1, marker=str(marker))
    assert count(marker) == 6


# --- (9) the SQLite store ---------------------------------------------------------------------------


def entry(tag: str) -> CacheEntry:
    return CacheEntry(task="t:task", version="1", outputs={"o0": LiteralRef(hash=tag * 4, value=tag)})


def test_put_is_first_writer_wins(tmp_path: Path) -> None:
    store = SqliteCacheStore(tmp_path / "c.sqlite")
    assert store.put("k", entry("first")) is True
    assert store.put("k", entry("second")) is False
    got = store.get("k")
    assert got is not None
    assert got.outputs == {"o0": LiteralRef(hash="first" * 4, value="first")}
    assert store.get("missing") is None
    store.delete("k")
    assert store.get("k") is None


def test_get_many_reads_present_keys_and_reports_a_bad_entry_alone(tmp_path: Path) -> None:
    store = SqliteCacheStore(tmp_path / "c.sqlite")
    keys = [f"k{i}" for i in range(1200)]  # more than one query's worth of keys
    for key in keys[::2]:
        store.put(key, entry(key))
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE cache SET outputs = 'not json' WHERE key = 'k10'")
    found = store.get_many([*keys, "missing"])
    assert set(found) == set(keys[::2])
    assert isinstance(found["k10"], CacheEntryError)
    good = found["k1198"]
    assert isinstance(good, CacheEntry)
    assert good.outputs == entry("k1198").outputs
    assert store.get_many([]) == {}


class _LockedAtFirst:
    """A connection whose WAL switch finds the new file busy ``times`` times (a sibling creating it)."""

    def __init__(self, times: int, message: str = "database is locked") -> None:
        self.left, self.message, self.calls = times, message, 0

    def execute(self, sql: str) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA journal_mode"):
            self.calls += 1
            if self.left:
                self.left -= 1
                raise sqlite3.OperationalError(self.message)
        return sqlite3.connect(":memory:").execute("SELECT 1")  # page_count: not a new file


def test_the_wal_switch_retries_while_a_sibling_holds_the_new_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite's busy timeout does not cover the switch: the cache's first read in a thread used to fail
    # with "database is locked" while a sibling thread created the file (a flake in the full suite).
    monkeypatch.setattr(cache_module.time, "sleep", lambda seconds: None)
    conn = _LockedAtFirst(times=3)
    enable_wal(conn)  # type: ignore[arg-type]
    assert conn.calls == 4
    other = _LockedAtFirst(times=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        enable_wal(other)  # type: ignore[arg-type]
    assert other.calls == 1


@pytest.mark.parametrize("new", [True, False])
def test_the_wal_switch_flushes_only_a_file_with_something_in_it(tmp_path: Path, new: bool) -> None:
    path = tmp_path / "db.sqlite"
    if not new:
        with contextlib.closing(sqlite3.connect(path)) as old:
            old.execute("CREATE TABLE kept (a)")  # an existing file in the rollback journal mode
            old.commit()
    conn = sqlite3.connect(path, isolation_level=None)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    enable_wal(conn)
    switch = statements.index("PRAGMA journal_mode=WAL")
    assert ("PRAGMA synchronous=OFF" in statements[:switch]) is new  # nothing to lose in a new file
    assert statements[-1] == "PRAGMA synchronous=NORMAL"
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    conn.close()


def test_concurrent_writers_from_threads(tmp_path: Path) -> None:
    store = SqliteCacheStore(tmp_path / "c.sqlite")
    threads, per_thread = 8, 40
    won: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads, timeout=30)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                store.put(f"{name}-{i}", entry(f"{name}-{i}"))
                if store.put(f"shared-{i}", entry(name)):
                    with lock:
                        won.setdefault(f"shared-{i}", []).append(name)
                assert store.get(f"{name}-{i}") is not None
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    keys = {key for key, _ in store.entries()}
    assert len(keys) == threads * per_thread + per_thread
    # Exactly one writer won each shared key, and the stored value is the winner's.
    assert all(len(names) == 1 for names in won.values())
    assert len(won) == per_thread
    for key, names in won.items():
        got = store.get(key)
        assert got is not None
        assert got.outputs["o0"].value == names[0]


WRITER = """
import json, sys
from pathlib import Path
from stratoflow import cache as cache_module
from stratoflow.cache import CacheEntry, CacheEntryError, SqliteCacheStore, enable_wal
from stratoflow.values import LiteralRef
store = SqliteCacheStore(Path(sys.argv[1]))
name = sys.argv[2]
won = []
for i in range(150):
    e = CacheEntry(task="t:task", version="1", outputs={"o0": LiteralRef(hash="h" * 64, value=name)})
    store.put(f"{name}-{i}", e)
    if store.put(f"shared-{i}", e):
        won.append(i)
print(json.dumps(won))
"""


def test_concurrent_writers_from_two_processes(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    db = tmp_path / "c.sqlite"
    SqliteCacheStore(db)  # created up front, as the executor does
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env,
        )
        for name in ("a", "b")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    won_a, won_b = (set(json.loads(out)) for out, _ in results)
    assert won_a.isdisjoint(won_b)
    assert won_a | won_b == set(range(150))
    store = SqliteCacheStore(db)
    assert len(list(store.entries())) == 150 * 3
    for i in range(150):
        got = store.get(f"shared-{i}")
        assert got is not None
        assert got.outputs["o0"].value == ("a" if i in won_a else "b")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- stratoflow cache ls | clear ----------------------------------------------------------------


def test_cache_ls_and_clear(
    tmp_path: Path, fast_options: RunOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker"
    run(ct.doubled, fast_options, x=1, marker=str(marker))
    run(ct.big, fast_options, n=3, marker=str(marker))
    capsys.readouterr()
    assert cli.main(["cache", "ls"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 3
    assert sorted(line.split()[1] for line in listed) == [
        f"{ct.__name__}:big_range",
        f"{ct.__name__}:cached_double",
        f"{ct.__name__}:cached_inc",
    ]
    assert all("outputs=o0" in line for line in listed)

    assert cli.main(["cache", "clear", "--task", "cached_double"]) == 0
    assert capsys.readouterr().out.strip() == "removed 1 cache entries"
    assert cli.main(["cache", "ls"]) == 0
    assert "cached_double" not in capsys.readouterr().out

    assert cli.main(["cache", "clear"]) == 0
    assert capsys.readouterr().out.strip() == "removed 2 cache entries"
    assert cli.main(["cache", "ls"]) == 0
    assert capsys.readouterr().out == ""
    # Cleared means recomputed.
    assert run(ct.doubled, fast_options, x=1, marker=str(marker)).executed == {"cached_double", "cached_inc"}


def test_clear_by_task_name_matches_names_literally(tmp_path: Path) -> None:
    store = SqliteCacheStore(tmp_path / "c.sqlite")
    for key, task in [
        ("1", "m:cached_double"),
        ("2", "m:cachedXdouble"),
        ("3", "other:cached_double"),
        ("4", "m:x"),
    ]:
        store.put(key, CacheEntry(task=task, version="1", outputs={}))
    assert store.clear("cached_double") == 2  # '_' is not a wildcard: cachedXdouble stays
    assert sorted(entry.task for _, entry in store.entries()) == ["m:cachedXdouble", "m:x"]
    assert store.clear("m:x") == 1  # a full ref works too
    assert store.clear("%") == 0
    assert [entry.task for _, entry in store.entries()] == ["m:cachedXdouble"]
