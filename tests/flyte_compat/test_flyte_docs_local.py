"""Flyte's documented workflows run locally with flytekit's results, their imports changed and nothing else.

The expected values are what flytekit computes for the same files (worked out from the code:
``slope`` of x=[-3, 0, 3], y=[7, 4, -2] is -81 / 54 = -1.5, the intercept is 3.0, ...).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError, cli
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from tests.conftest import REPO
from tests.flyte_compat.flows import flyte_style
from tests.flyte_compat.flows.advanced_composition import dynamic_workflow
from tests.flyte_compat.flows.basics import imperative_workflow, named_outputs, workflow
from tests.flyte_compat.flows.data_types_and_io import attribute_access, enum_type

FLOWS = REPO / "tests" / "flyte_compat" / "flows"
X, Y = [-3, 0, 3], [7, 4, -2]


def _run(wf: Any, inputs: dict[str, Any] | None = None, home: Path | None = None) -> dict[str, Any]:
    options = RunOptions(retry_base_seconds=0.01, progress=False, home=home)
    return run_local(lower(wf), inputs or {}, options).outputs


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    code = cli.main(["run", "--json", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


# --- flytesnacks basics -------------------------------------------------------------------------


def test_basics_workflow_as_flytes_main_calls_it() -> None:
    assert workflow.simple_wf(x=X, y=Y) == 3.0
    assert workflow.simple_wf_with_partial(x=X, y=Y) == -1.5


def test_named_outputs_one_field_namedtuple_tasks_return_the_bare_value() -> None:
    result = named_outputs.simple_wf_with_named_outputs()
    assert result == named_outputs.slope_and_intercept_values(slope=-1.5, intercept=3.0)
    assert _run(named_outputs.simple_wf_with_named_outputs) == {"slope": -1.5, "intercept": 3.0}


def test_imperative_workflow_with_a_relative_import() -> None:
    assert imperative_workflow.imperative_wf(x=X, y=Y) == 3.0
    spec = lower(imperative_workflow.imperative_wf)
    assert [v.name for v in spec.inputs] == ["x", "y"]
    assert [v.name for v in spec.outputs] == ["wf_output"]
    assert sorted(spec.tasks) == ["intercept", "slope"]


def test_run_file_inside_a_package_imports_it_as_package_module(capsys: pytest.CaptureFixture[str]) -> None:
    target = str(FLOWS / "basics" / "imperative_workflow.py")
    outputs = _cli_json(capsys, target, "imperative_wf", "--x", json.dumps(X), "--y", json.dumps(Y))
    assert outputs == {"wf_output": 3.0}
    # The task refs are the package's, as the tests (and a Lambda bundle of the package) import them.
    spec = lower(load_workflow(target, "imperative_wf"))
    assert spec.tasks["slope"].ref == "tests.flyte_compat.flows.basics.workflow:slope"
    assert sys.modules["tests.flyte_compat.flows.basics.imperative_workflow"].imperative_wf is (
        imperative_workflow.imperative_wf
    )


def test_the_module_form_keeps_working(capsys: pytest.CaptureFixture[str]) -> None:
    module = "tests.flyte_compat.flows.basics.named_outputs"
    assert _cli_json(capsys, module, "simple_wf_with_named_outputs") == {"slope": -1.5, "intercept": 3.0}


def test_relative_imports_from_another_folder_in_a_fresh_process(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    # What pyflyte does and `python file.py` cannot: the package root is found from the file.
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("stratoflow")),
            "run",
            "--json",
            str(FLOWS / "basics" / "imperative_workflow.py"),
            "imperative_wf",
            "--x",
            json.dumps(X),
            "--y",
            json.dumps(Y),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**subprocess_env, "PYTHONPATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"wf_output": 3.0}


def test_the_launch_plan_example_runs_as_a_module_in_a_fresh_process(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    # get_default_launch_plan, create, get_or_create with fixed inputs, each called as the file does
    # (a fresh process: launch plan names are global, as in flytekit).
    module = "tests.flyte_compat.flows.basics.launch_plan"
    runs = "m.default_lp.name, m.simple_wf_lp(), m.simple_wf_lp_fixed_inputs(y=[7, 4, -2])"
    code = f"import {module} as m; print({runs})"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**subprocess_env, "STRATOFLOW_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["simple_wf", "3.0", "3.0"]  # simple_wf's intercept, as above


# --- flytesnacks data types and IO --------------------------------------------------------------


def test_attribute_access_indexes_lists_dicts_and_dataclass_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    for wf in (
        attribute_access.list_wf,
        attribute_access.dict_wf,
        attribute_access.dataclass_wf,
        attribute_access.advanced_workflow,
    ):
        assert wf() is None  # no return annotation: no outputs, as in flytekit
    printed = capsys.readouterr().out
    # The tasks ran on threads: compare what was printed, not its order.
    assert sorted(printed.split()) == sorted(
        ["apple", "banana", "banana", "banana", "banana", "banana", "['banana']", "{'fruit':", "'banana'}"]
    )


def test_attribute_access_spec_holds_element_bindings() -> None:
    spec = lower(attribute_access.advanced_workflow)
    bindings = [node.inputs for node in spec.task_nodes() if node.task == "print_message"]
    first = bindings[0]["message"]
    assert first.kind == "element" and first.key == 0
    assert first.of.kind == "element" and first.of.key == "fruits"
    assert lower(attribute_access.advanced_workflow).outputs == ()


def test_enum_type() -> None:
    assert enum_type.coffee_maker(coffee="latte") == "Preparing latte ..."
    assert enum_type.coffee_maker_enum(coffee_enum=enum_type.Coffee.LATTE) == "Preparing latte ..."


# --- written in Flyte's style -------------------------------------------------------------------


def test_bare_tuple_annotation_is_a_tuple_of_outputs() -> None:
    assert flyte_style.stats_wf() == (3.0, 5.0)
    assert [v.name for v in lower(flyte_style.stats_wf).outputs] == ["o0", "o1"]


def test_int_keyed_dict_and_indexing_it() -> None:
    assert flyte_style.squares_wf(n=4) == ("0->0, 1->1, 2->4, 3->9", 9)
    assert flyte_style.squares(n=3) == {0: 0, 1: 1, 2: 4}


def test_enum_keyed_dict(capsys: pytest.CaptureFixture[str]) -> None:
    red, green = flyte_style.Color.RED, flyte_style.Color.GREEN
    assert flyte_style.colors_wf() == ({red: 2, green: 1}, 2)
    # On the command line the keys print as the enum's values.
    target = str(FLOWS / "flyte_style.py")
    assert _cli_json(capsys, target, "colors_wf") == {"o0": {"red": 2, "green": 1}, "o1": 2}


def test_dict_key_inputs_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    target = str(FLOWS / "flyte_style.py")
    outputs = _cli_json(capsys, "--inputs", json.dumps({"table": {"2": 4, "10": 100}}), target, "describe_wf")
    assert outputs == {"o0": "2->4, 10->100"}


def test_one_field_namedtuple_workflow_returns_the_task_output() -> None:
    assert flyte_style.total_wf() == flyte_style.total_value(total=6)
    assert _run(flyte_style.total_wf) == {"total": 6}


def test_no_return_annotation_runs_and_has_no_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert flyte_style.log_wf(message="hi there") is None
    assert "hi there" in capsys.readouterr().out
    assert lower(flyte_style.log_wf).outputs == ()
    assert flyte_style.log_message.spec.outputs == ()


def test_format_typed_files_and_directories(tmp_path: Path) -> None:
    assert flyte_style.write_csv.spec.outputs[0].type.kind == "file"
    assert _run(flyte_style.csv_wf, home=tmp_path) == {"o0": 3}
    assert _run(flyte_style.dir_wf, home=tmp_path) == {"o0": ["a.txt", "b.txt"]}


def test_recoverable_exception_is_retried(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    assert _run(flyte_style.flaky_wf, {"attempts_file": str(attempts)}) == {"o0": 3}
    assert attempts.read_text() == "3"


def test_a_recoverable_exception_that_persists_fails_with_flytes_name_and_text(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    attempts.write_text("-10")  # attempts -9 .. -6 all fail: retries=3 is four attempts
    with pytest.raises(TaskFailedError) as info:
        _run(flyte_style.flaky_wf, {"attempts_file": str(attempts)})
    assert info.value.error_type == "FlyteRecoverableException"
    assert info.value.attempt == 4
    assert str(info.value).endswith("FlyteRecoverableException: USER:Recoverable: error=attempt -6 failed")


def test_kwtypes() -> None:
    assert flyte_style.columns_wf() == ["name", "age"]


def test_an_item_missing_at_run_time_fails_the_node_that_reads_it() -> None:
    assert _run(flyte_style.sixth_square_wf, {"n": 6}) == {"o0": 26}
    with pytest.raises(TaskFailedError) as info:
        _run(flyte_style.sixth_square_wf, {"n": 4})
    assert (info.value.node, info.value.error_type) == ("plus_one", "MissingElementError")
    assert str(info.value) == "node 'plus_one' input 'x': no item 5 in the dict[int, int] (no such item)"


def test_the_dynamic_workflow_examples_and_the_recursive_merge_sort() -> None:
    assert _run(dynamic_workflow.dynamic_wf, {"s1": "Pear", "s2": "Earth"}) == {"o0": 3}
    numbers = [1813, 3105, 3260, 2634, 383, 7037, 3291, 2403, 315, 7164]
    # A @dynamic calling the workflow whose conditional called it: its conditionals run in the graph.
    assert _run(dynamic_workflow.merge_sort, {"numbers": numbers, "numbers_count": 10}) == {
        "o0": sorted(numbers)
    }
