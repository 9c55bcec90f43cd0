"""``flytekit.types.directory`` under stratoflow: ``FlyteDirectory`` is :class:`stratoflow.Directory`.

Example:
    >>> from stratoflow.types.directory import FlyteDirectory, TensorboardLogs
    >>> TensorboardLogs.extension, issubclass(TensorboardLogs, FlyteDirectory)
    ('tensorboard', True)
"""

from __future__ import annotations

from typing import TypeVar

from stratoflow.values import Directory as FlyteDirectory

__all__ = ["FlyteDirectory", "TFRecordsDirectory", "TensorboardLogs"]

# FlyteDirectory[TypeVar(...)], spelled as a call: Directory is not Generic for mypy.
TensorboardLogs = FlyteDirectory.__class_getitem__(TypeVar("tensorboard"))
TFRecordsDirectory = FlyteDirectory.__class_getitem__(TypeVar("tfrecords_dir"))
