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


HDF5EncodedFile = FlyteFile[Annotated[str, FileExt("hdf5")]]
HTMLPage = FlyteFile[Annotated[str, FileExt("html")]]
JoblibSerializedFile = FlyteFile[Annotated[str, FileExt("joblib")]]
JPEGImageFile = FlyteFile[Annotated[str, FileExt("jpeg")]]
PDFFile = FlyteFile[Annotated[str, FileExt("pdf")]]
PNGImageFile = FlyteFile[Annotated[str, FileExt("png")]]
PythonPickledFile = FlyteFile[Annotated[str, FileExt("python_pickle")]]
PythonNotebook = FlyteFile[Annotated[str, FileExt("ipynb")]]
SVGImageFile = FlyteFile[Annotated[str, FileExt("svg")]]
CSVFile = FlyteFile[Annotated[str, FileExt("csv")]]
ONNXFile = FlyteFile[Annotated[str, FileExt("onnx")]]
TFRecordFile = FlyteFile[Annotated[str, FileExt("tfrecord")]]
JSONLFile = FlyteFile[Annotated[str, FileExt("jsonl")]]
