"""``flytekit.types.file`` under stratoflow: ``FlyteFile`` is :class:`stratoflow.File`, and its formats.

``FlyteFile[TypeVar("csv")]``, ``FlyteFile["csv"]`` and the named formats below are File
subclasses labelled with their format (``.extension``); they are carried, cached and hashed
like any File (by contents), and the label is not checked against the contents, as in Flyte.

Example:
    >>> from typing import TypeVar
    >>> from stratoflow.types.file import FlyteFile
    >>> FlyteFile[TypeVar("csv")].extension
    'csv'
"""

from __future__ import annotations

from typing import Annotated

from stratoflow.values import File as FlyteFile

__all__ = [
    "CSVFile",
    "FileExt",
    "FlyteFile",
    "HDF5EncodedFile",
    "HTMLPage",
    "JPEGImageFile",
    "JSONLFile",
    "JoblibSerializedFile",
    "ONNXFile",
    "PDFFile",
    "PNGImageFile",
    "PythonNotebook",
    "PythonPickledFile",
    "SVGImageFile",
    "TFRecordFile",
]


class FileExt:
    """A file format in ``Annotated[str, FileExt("csv")]``, as Flyte spells formats."""

    def __init__(self, ext: str) -> None:
        self._ext = ext

    @property
    def extension(self) -> str:
        """The format's name (``"csv"``)."""
        return self._ext


def _format(ext: str) -> type[FlyteFile]:
    # FlyteFile[Annotated[str, FileExt(ext)]], spelled as a call: File is not Generic for mypy.
    return FlyteFile.__class_getitem__(Annotated[str, FileExt(ext)])


HDF5EncodedFile = _format("hdf5")
HTMLPage = _format("html")
JoblibSerializedFile = _format("joblib")
JPEGImageFile = _format("jpeg")
PDFFile = _format("pdf")
PNGImageFile = _format("png")
PythonPickledFile = _format("python_pickle")
PythonNotebook = _format("ipynb")
SVGImageFile = _format("svg")
CSVFile = _format("csv")
ONNXFile = _format("onnx")
TFRecordFile = _format("tfrecord")
JSONLFile = _format("jsonl")
