"""Handwritten digits, end to end: split → train → batch inference on actors → evaluate → HTML report.

The data is scikit-learn's bundled 8x8 digits set (1,797 images, nothing downloaded). On AWS:
`load_split`, `evaluate` and `write_report` fit Lambda; `train` asks for 4 vCPU / 16 GiB and
is interruptible, so it runs on Fargate Spot (its last attempt on on-demand Fargate);
`predict` is an actor task (`ActorEnvironment`), mapped over chunks of the test set, whose
model is loaded once per worker by `@actor_cache`, not once per chunk.

The tasks that import scikit-learn or numpy (`load_split`, `train`, the `inference` workers)
run on the `ML` image, which installs exactly the pins of pyproject's `examples` extra; the
others run from the shared bundle. Those imports stay inside the task bodies, so loading,
compiling or deploying the workflow needs neither package (Flyte's rule for image-only imports).

The model is a multinomial logistic regression, stored as JSON weights (no pickle: loading a
model never runs code) and applied with numpy. Seeds are fixed, so every run gives the same
accuracy.

    pip install -e ".[examples]"
    stratoflow run examples/digits.py digits
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

from stratoflow import ActorEnvironment, File, ImageSpec, Resources, actor_cache, map_task, task, workflow

# What the scikit-learn and numpy tasks run on, on AWS: pyproject's `examples` pins, exactly
# (tests/local/test_digits.py holds them equal). Locally every task runs in this interpreter.
ML = ImageSpec(name="digits-ml", packages=["scikit-learn==1.9.1", "numpy==2.4.6"])

MODEL_FORMAT = "stratoflow-examples/digits-logistic-regression/1"
PIXEL_MAX = 16.0  # the digits images are 8x8 pixels of ink counts 0..16


@dataclass
class Samples:
    """Images (64 pixels each, row by row) and their true digits."""

    images: list[list[int]]
    labels: list[int]


class Split(NamedTuple):
    train: Samples
    test_chunks: list[Samples]


@dataclass
class Predictions:
    predicted: list[int]
    actual: list[int]


@dataclass
class Evaluation:
    accuracy: float
    correct: int
    total: int
    labels: list[int]
    confusion: list[list[int]]  # confusion[i][j]: images of labels[i] predicted as labels[j]


class Scored(NamedTuple):
    accuracy: float
    evaluation: Evaluation


class DigitsResult(NamedTuple):
    accuracy: float
    report: File
    model: File


@task(cache=True, cache_version="1", container_image=ML)
def load_split(test_fraction: float, seed: int, chunks: int) -> Split:
    """Load the bundled digits, split stratified with ``seed``, and cut the test set into ``chunks``."""
    # Imported here, not at module level: loading or compiling the workflow needs no scikit-learn.
    from sklearn.datasets import load_digits  # noqa: PLC0415
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data.astype(int),
        digits.target,
        test_size=test_fraction,
        random_state=seed,
        stratify=digits.target,
    )
    size = -(-len(y_test) // max(1, chunks))  # ceiling division: at most `chunks` chunks
    test_chunks = [
        Samples(images=x_test[i : i + size].tolist(), labels=y_test[i : i + size].tolist())
        for i in range(0, len(y_test), size)
    ]
    return Split(train=Samples(images=x_train.tolist(), labels=y_train.tolist()), test_chunks=test_chunks)


# A big, interruptible step: on AWS it routes to Fargate Spot, retried on on-demand after interruptions.
@task(
    requests=Resources(cpu="4", mem="16Gi"),
    interruptible=True,
    retries=2,
    timeout=timedelta(minutes=30),
    container_image=ML,
)
def train(data: Samples, regularisation: float, seed: int) -> File:
    """Fit a multinomial logistic regression; write its weights as JSON (a File, never a pickle)."""
    import numpy as np  # noqa: PLC0415
    import sklearn  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    x = np.asarray(data.images, dtype=float) / PIXEL_MAX
    model = LogisticRegression(C=regularisation, max_iter=2000, random_state=seed).fit(x, data.labels)
    weights = {
        "format": MODEL_FORMAT,
        "trained_with": f"scikit-learn {sklearn.__version__}",
        "train_size": len(data.labels),
        "pixel_scale": PIXEL_MAX,
        "classes": model.classes_.tolist(),
        "coef": model.coef_.tolist(),
        "intercept": model.intercept_.tolist(),
    }
    path = Path(tempfile.mkdtemp()) / "digits_model.json"
    # repr-exact floats: the reloaded weights equal the trained ones bit for bit.
    path.write_text(json.dumps(weights), encoding="utf-8")
    return File(path)


@dataclass(frozen=True)
class LinearModel:
    classes: Any  # numpy arrays; kept off the task interfaces, which carry the JSON File
    coef: Any
    intercept: Any
    pixel_scale: float


@actor_cache
def load_model(model: File) -> LinearModel:
    """Read the JSON weights into numpy once per worker (keyed by the file's content hash)."""
    import numpy as np  # noqa: PLC0415

    weights = json.loads(Path(model.download()).read_text(encoding="utf-8"))
    if weights.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"{model.name}: not a digits model (format {weights.get('format')!r}, want {MODEL_FORMAT!r})"
        )
    return LinearModel(
        classes=np.asarray(weights["classes"]),
        coef=np.asarray(weights["coef"], dtype=float),
        intercept=np.asarray(weights["intercept"], dtype=float),
        pixel_scale=float(weights["pixel_scale"]),
    )


# Warm workers for the inference map: each loads the model once and serves many chunks.
inference = ActorEnvironment(
    name="digits-inference",
    replica_count=2,
    ttl_seconds=120,
    requests=Resources(cpu="1", mem="2Gi"),
    container_image=ML,  # the workers import numpy
)


@inference.task(retries=1)
def predict(model: File, chunk: Samples) -> Predictions:
    """Classify one chunk: argmax of the linear scores (what LogisticRegression.predict computes)."""
    import numpy as np  # noqa: PLC0415

    weights = load_model(model)
    x = np.asarray(chunk.images, dtype=float) / weights.pixel_scale
    scores = x @ weights.coef.T + weights.intercept
    predicted = weights.classes[np.argmax(scores, axis=1)]
    return Predictions(predicted=[int(p) for p in predicted], actual=list(chunk.labels))


@task
def evaluate(predictions: list[Predictions]) -> Scored:
    """Accuracy and confusion matrix over every chunk."""
    pairs = [(a, p) for chunk in predictions for a, p in zip(chunk.actual, chunk.predicted, strict=True)]
    labels = sorted({a for a, _ in pairs} | {p for _, p in pairs})
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for actual, predicted in pairs:
        confusion[index[actual]][index[predicted]] += 1
    correct = sum(1 for a, p in pairs if a == p)
    total = len(pairs)
    accuracy = round(correct / total, 4) if total else 0.0
    return Scored(accuracy, Evaluation(accuracy, correct, total, labels, confusion))


def _cell_colour(value: int, peak: int, *, correct: bool) -> str:
    """Blue for correct answers (the diagonal), red for mistakes, white when empty."""
    share = value / peak if peak else 0.0
    fade = int(200 * share)
    return f"rgb({255 - fade},{255 - fade // 2},255)" if correct else f"rgb(255,{255 - fade},{255 - fade})"


def confusion_svg(evaluation: Evaluation, cell: int = 34) -> str:
    """The confusion matrix as an SVG heat map, drawn without a plotting library.

    The diagonal and the mistakes are shaded on separate scales, so a handful of mistakes
    stands out beside the hundreds of correct answers.
    """
    n = len(evaluation.labels)
    margin, side = 40, 40 + n * cell + 10
    middle = margin + n * cell / 2
    grid = evaluation.confusion
    peak_right = max((grid[i][i] for i in range(n)), default=0)
    peak_wrong = max((grid[i][j] for i in range(n) for j in range(n) if i != j), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {side} {side}" font-family="sans-serif" font-size="12">',
        f'<text x="{middle}" y="12" text-anchor="middle">predicted</text>',
        f'<text x="12" y="{middle}" text-anchor="middle" transform="rotate(-90 12 {middle})">actual</text>',
    ]
    for i, label in enumerate(evaluation.labels):
        centre = margin + i * cell + cell / 2
        parts.append(f'<text x="{centre}" y="{margin - 6}" text-anchor="middle">{label}</text>')
        parts.append(f'<text x="{margin - 8}" y="{centre + 4}" text-anchor="end">{label}</text>')
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            x, y = margin + j * cell, margin + i * cell
            peak = peak_right if i == j else peak_wrong
            fill = _cell_colour(value, peak, correct=i == j)
            ink = "#fff" if peak and value / peak > 0.6 else "#222"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#ccc"/>'
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="{ink}">{value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


@task
def write_report(evaluation: Evaluation, model: File) -> File:
    """An HTML report: the accuracy, per-digit recall and the confusion matrix as an inline SVG."""
    weights = json.loads(Path(model.download()).read_text(encoding="utf-8"))
    rows = []
    for i, label in enumerate(evaluation.labels):
        support = sum(evaluation.confusion[i])
        recall = evaluation.confusion[i][i] / support if support else 0.0
        rows.append(f"<tr><td>{label}</td><td>{support}</td><td>{recall:.3f}</td></tr>")
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Digits classifier report</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:2px 10px;text-align:right}}</style></head>
<body>
<h1>Digits classifier report</h1>
<p>Accuracy: <strong id="accuracy">{evaluation.accuracy:.4f}</strong>
({evaluation.correct} of {evaluation.total} test images)</p>
<p>Model: {html.escape(weights["format"])}, trained on {weights["train_size"]} images with
{html.escape(weights["trained_with"])}.</p>
<h2>Confusion matrix</h2>
{confusion_svg(evaluation)}
<h2>Recall per digit</h2>
<table><tr><th>digit</th><th>images</th><th>recall</th></tr>
{"".join(rows)}
</table>
</body></html>
"""
    path = Path(tempfile.mkdtemp()) / "digits_report.html"
    path.write_text(body, encoding="utf-8")
    return File(path)


@workflow
def digits(
    test_fraction: float = 0.3, seed: int = 0, chunks: int = 6, regularisation: float = 1.0
) -> DigitsResult:
    train_set, test_chunks = load_split(test_fraction=test_fraction, seed=seed, chunks=chunks)
    model = train(data=train_set, regularisation=regularisation, seed=seed)
    # One map item per chunk; `model` is broadcast to every item.
    predictions = map_task(predict, concurrency=8)(model=model, chunk=test_chunks)
    accuracy, evaluation = evaluate(predictions=predictions)
    report = write_report(evaluation=evaluation, model=model)
    return DigitsResult(accuracy=accuracy, report=report, model=model)
