"""``flytekit.types.structured`` under stratoflow: :class:`StructuredDataset` over pandas and pyarrow.

Stored as Parquet and known by its contents; ``Annotated[StructuredDataset, kwtypes(a=int)]``
gives a reader only the columns named (``pip install "stratoflow[dataframe]"``).

Example:
    >>> from typing import Annotated
    >>> from stratoflow import kwtypes, task
    >>> from stratoflow.types.structured import StructuredDataset
    >>> @task
    ... def first_a(sd: Annotated[StructuredDataset, kwtypes(a=int)]) -> int:
    ...     import pandas as pd
    ...     return int(sd.open(pd.DataFrame).all()["a"].iloc[0])
"""

from stratoflow.types.structured.structured_dataset import (
    CSV,
    GENERIC_FORMAT,
    PARQUET,
    StructuredDataset,
    StructuredDatasetFormat,
)

__all__ = ["CSV", "GENERIC_FORMAT", "PARQUET", "StructuredDataset", "StructuredDatasetFormat"]
