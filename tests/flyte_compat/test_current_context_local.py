"""``current_context()`` in tasks run locally: flytekit's execution parameters, from the runner's run,
node and attempt, in threads, map worker processes and actor workers alike."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from stratoflow import current_context
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import Checkpoint
from stratoflow.errors import ConfigError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import LocalRunStorage
from tests.flyte_compat.flows import context_flows
from tests.flyte_compat.flows.advanced_composition import checkpoint


def _run(wf: Any, home: Path, run_id: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    options = RunOptions(home=home, progress=False, retry_base_seconds=0.01)
    return run_local(lower(wf), inputs or {}, options, run_id=run_id).outputs


def test_execution_id_working_directory_and_logging(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = _run(context_flows.context_wf, tmp_path, "run-42")
    assert (out["o0"], out["o1"], out["o2"], out["o3"]) == ("stratoflow", "development", "run-42", "hello")
    workdir = Path(out["o4"])
    # A per-attempt scratch folder under tempfile's (a container's scratch volume), gone afterwards;
    # the file the task returned from it was stored before it went.
    assert workdir.parent == Path(tempfile.gettempdir())
    assert workdir.name.startswith("stratoflow-attempt1-")
    assert not workdir.exists()
    err = capfd.readouterr().err
    assert f"INFO [run-42 write_scratch attempt 1] wrote {workdir / 'note.txt'}" in err


def test_a_failed_attempts_checkpoint_is_what_the_next_attempt_reads(tmp_path: Path) -> None:
    assert _run(context_flows.resume_wf, tmp_path, "resume-1") == {"o0": 16, "o1": 2}
    folder = tmp_path / protocol.checkpoints_prefix("resume_wf", "resume-1", "count_on")
    assert sorted(p.name for p in folder.iterdir()) == ["1.tar"]


def test_flytesnacks_checkpoint_example_resumes_across_its_retries(tmp_path: Path) -> None:
    # Attempt n resumes where attempt n-1 stopped: 0-2, 3-5, 6-8, then 9 (what Flyte computes).
    assert _run(checkpoint.checkpointing_example, tmp_path, "cp-1", {"n_iterations": 10}) == {"o0": 9}
    storage = LocalRunStorage(tmp_path)
    prefix = protocol.checkpoints_prefix("checkpointing_example", "cp-1", "use_checkpoint")
    saved = {protocol.checkpoint_attempt(k): k for k in storage.keys(prefix)}
    assert sorted(saved) == [1, 2, 3, 4]
    reader = Checkpoint(
        storage, "checkpointing_example", "cp-1", "use_checkpoint", 5, scratch=lambda: str(tmp_path)
    )
    assert reader.read() == b"10"


def test_map_items_in_processes_and_actor_tasks_know_their_run_and_node(tmp_path: Path) -> None:
    out = _run(context_flows.map_context_wf, tmp_path, "map-1", {"xs": [4, 5]})
    assert out == {"o0": ["map-1/map_item_context[0]/4", "map-1/map_item_context[1]/5"]}
    assert _run(context_flows.actor_context_wf, tmp_path, "actor-1") == {"o0": "actor-1/actor_context/1"}


def test_a_dynamics_tasks_belong_to_its_execution(tmp_path: Path) -> None:
    out = _run(context_flows.dynamic_context_wf, tmp_path, "dyn-1", {"n": 2})
    # Its tasks and its body alike.
    assert [item.split("/")[0] for item in out["o0"]] == ["dyn-1"] * 3


def test_secrets_are_read_from_flytekits_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_FSEC_DB_PASSWORD", "s3cret")
    assert _run(context_flows.secret_wf, tmp_path, "secret-1") == {"o0": "s3cret"}
    monkeypatch.delenv("_FSEC_DB_PASSWORD")
    with pytest.raises(
        ConfigError, match=r"secret group 'db' key 'password' is not set: .* no _FSEC_DB_PASSWORD"
    ):
        _run(context_flows.secret_wf, tmp_path, "secret-2")


def test_outside_a_task_current_context_gives_flytekits_local_defaults() -> None:
    ctx = current_context()
    assert (ctx.execution_id.project, ctx.execution_id.domain, ctx.execution_id.name) == ("local",) * 3
    assert Path(ctx.working_directory).is_dir()
    with pytest.raises(NotImplementedError, match="checkpoints exist only while a task runs"):
        _ = ctx.checkpoint


def test_checkpoint_files_and_folders_as_flytekit_saves_and_restores_them(tmp_path: Path) -> None:
    storage = LocalRunStorage(tmp_path / "home")
    first = Checkpoint(storage, "wf", "r", "n", 1, scratch=lambda: str(tmp_path))
    assert not first.prev_exists()
    assert first.read() is None
    assert first.restore() is None
    state = tmp_path / "state"
    (state / "sub").mkdir(parents=True)
    (state / "a.txt").write_text("A")
    (state / "sub" / "b.txt").write_text("B")
    first.save(state)
    first.save(io.BytesIO(b"raw"))  # a second save adds to this attempt's checkpoint
    second = Checkpoint(storage, "wf", "r", "n", 2, scratch=lambda: str(tmp_path))
    assert second.prev_exists()
    target = tmp_path / "restored"
    target.mkdir()
    restored = second.restore(target)
    assert restored == target
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "_dst_cache",
        "a.txt",
        "sub/b.txt",
    ]
    with pytest.raises(ValueError, match="expected exactly one checkpoint file, found 3"):
        second.read()
    # An attempt that saved nothing leaves the latest earlier checkpoint to the next one.
    third = Checkpoint(storage, "wf", "r", "n", 3, scratch=lambda: str(tmp_path))
    assert third.prev_exists()
    with pytest.raises(ValueError, match="restored to a folder only"):
        third.restore(tmp_path / "missing")


def test_a_non_recoverable_exception_is_retried_unlike_in_flyte(tmp_path: Path) -> None:
    # The documented difference (README, "Porting Flyte code"): retries=2 tries a ValueError 3 times.
    attempts = tmp_path / "attempts"
    with pytest.raises(TaskFailedError, match="attempt 3: always fails") as failed:
        _run(context_flows.stubborn_wf, tmp_path, "stubborn-1", {"attempts_file": str(attempts)})
    assert (failed.value.error_type, failed.value.attempt) == ("ValueError", 3)
    assert attempts.read_text() == "3"


def test_the_working_directory_outside_a_task_is_removed_when_the_process_ends(tmp_path: Path) -> None:
    # One per process (flytekit's user space directory): no attempt ends to remove it, the exit does.
    probe = (
        "from pathlib import Path; from stratoflow import current_context; "
        "d = Path(current_context().working_directory); (d / 'in.txt').write_text('x'); print(d)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    made = Path(done.stdout.strip())
    assert made.name.startswith("stratoflow-local-")
    assert not made.exists()
