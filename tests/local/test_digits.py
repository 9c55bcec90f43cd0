"""examples/digits.py, the main job (`make run`): right, deterministic, and its model is JSON, not a pickle.

The expected accuracy is computed here by scikit-learn itself (its own ``predict`` on the
same split), so the example's JSON round trip, numpy inference, chunked map and gather
are all checked against an independent answer.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from stratoflow import File, cli
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from tests._examples import load_example
from tests.conftest import EXAMPLES

DIGITS = str(EXAMPLES / "digits.py")
OUTPUT_LINE = re.compile(r"^  (\w+) = (.+)$")


def sklearn_accuracy(test_fraction: float = 0.3, seed: int = 0, regularisation: float = 1.0) -> float:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=test_fraction, random_state=seed, stratify=data.target
    )
    model = LogisticRegression(C=regularisation, max_iter=2000, random_state=seed)
    model.fit(x_train / 16.0, y_train)
    return round(float(model.score(x_test / 16.0, y_test)), 4)


def example_module() -> Any:
    """The module ``stratoflow run examples/digits.py`` loads (named by its file stem)."""
    load_example("digits.py", "digits")
    return sys.modules["digits"]


def run_digits(**inputs: Any) -> dict[str, Any]:
    """A fresh run (no cache hits), so two runs really compute twice."""
    spec = lower(load_example("digits.py", "digits"))
    return run_local(spec, inputs, RunOptions(use_cache=False, progress=False)).outputs


def test_make_run_prints_the_accuracy_and_the_report_path(capsys: pytest.CaptureFixture[str]) -> None:
    """What `make run` runs: the accuracy and the report's path, one clear line each."""
    code = cli.main(["run", DIGITS, "digits"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0] == "workflow 'digits' succeeded"
    printed = {m[1]: json.loads(m[2]) for m in map(OUTPUT_LINE.match, lines[1:]) if m}
    assert set(printed) == {"accuracy", "report", "model"}
    accuracy = printed["accuracy"]
    assert accuracy == sklearn_accuracy()
    assert accuracy > 0.93  # a linear model on 8x8 digits: far from chance (0.1)
    report = Path(printed["report"])
    assert report.name == "digits_report.html"
    text = report.read_text(encoding="utf-8")
    assert f'<strong id="accuracy">{accuracy:.4f}</strong>' in text
    drawn = re.search(r"<svg.*?</svg>", text, re.DOTALL)
    assert drawn, "no inline <svg> in the report"
    svg = ET.fromstring(drawn.group(0))  # noqa: S314 - the report this test's own run just wrote
    cells = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert len(cells) == 100  # the 10 x 10 confusion matrix
    assert Path(printed["model"]).name == "digits_model.json"


def test_same_accuracy_and_same_model_bytes_on_every_run() -> None:
    first, second = run_digits(), run_digits()
    assert first["accuracy"] == second["accuracy"] == sklearn_accuracy()
    assert Path(first["model"].download()).read_bytes() == Path(second["model"].download()).read_bytes()
    assert first["report"] == second["report"]  # File equality is content equality


def test_chunking_changes_nothing_but_the_map_width() -> None:
    one, seven = run_digits(chunks=1), run_digits(chunks=7)
    assert one["accuracy"] == seven["accuracy"] == sklearn_accuracy()


def test_other_inputs_match_scikit_learn_too() -> None:
    outputs = run_digits(test_fraction=0.5, seed=3, regularisation=0.1)
    assert outputs["accuracy"] == sklearn_accuracy(test_fraction=0.5, seed=3, regularisation=0.1)


def test_the_model_is_json_weights_not_a_pickle() -> None:
    import numpy as np
    from sklearn.datasets import load_digits

    outputs = run_digits()
    raw = Path(outputs["model"].download()).read_bytes()
    assert not raw.startswith(b"\x80")  # every pickle protocol >= 2 starts with PROTO (0x80)
    weights = json.loads(raw)
    assert weights["classes"] == list(range(10))
    assert np.asarray(weights["coef"]).shape == (10, 64)
    assert np.asarray(weights["intercept"]).shape == (10,)
    # The weights alone classify: argmax of the linear scores on the whole (train + test) set.
    data = load_digits()
    scores = data.data / weights["pixel_scale"] @ np.asarray(weights["coef"]).T + weights["intercept"]
    assert (np.argmax(scores, axis=1) == data.target).mean() > 0.93


def test_evaluate_counts_every_chunk() -> None:
    module = example_module()
    predictions = [
        module.Predictions(predicted=[1, 2, 2], actual=[1, 2, 3]),
        module.Predictions(predicted=[3], actual=[3]),
    ]
    accuracy, evaluation = module.evaluate(predictions=predictions)
    assert accuracy == evaluation.accuracy == 0.75
    assert (evaluation.correct, evaluation.total, evaluation.labels) == (3, 4, [1, 2, 3])
    assert evaluation.confusion == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_a_file_that_is_not_a_digits_model_is_refused_by_name(tmp_path: Path) -> None:
    module = example_module()
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"^other\.json: not a digits model \(format 'something-else'"):
        module.load_model(File(other))


def test_routing_train_on_fargate_spot_the_rest_on_lambda_and_predict_is_an_actor_task() -> None:
    spec = lower(load_example("digits.py", "digits"))
    predict = spec.tasks["predict"]
    assert predict.actor is not None
    assert (predict.actor.name, predict.actor.replica_count) == ("digits-inference", 2)
    states = asl.compile_workflow(spec).definition["States"]
    train = states["train"]
    assert train["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert train["Parameters"]["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    for name in ("load_split", "evaluate", "write_report"):
        assert states[name]["Resource"] == "arn:aws:states:::lambda:invoke", name
    # Actor map items go to the environment's workers through its queue, not to Lambda.
    items = states["map_predict"]["ItemProcessor"]["States"]["map_predict__batch"]
    assert items["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def _examples_extra() -> list[str]:
    pyproject = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text(encoding="utf-8"))
    extra: list[str] = pyproject["project"]["optional-dependencies"]["examples"]
    return extra


def test_the_scikit_learn_and_numpy_tasks_run_on_an_image_of_the_examples_pins() -> None:
    """What runs on AWS is what `make run` installs: the image pins pyproject's `examples` extra."""
    spec = lower(load_example("digits.py", "digits"))
    images = {name: task.image for name, task in spec.tasks.items()}
    ml = images["train"]
    assert ml is not None and ml.uri is None
    assert sorted(ml.packages) == sorted(_examples_extra())
    # load_split (scikit-learn's data), train and the inference workers (numpy) share it;
    # evaluate and write_report need neither package, so they keep the shared bundle.
    assert images == {"load_split": ml, "train": ml, "predict": ml, "evaluate": None, "write_report": None}
