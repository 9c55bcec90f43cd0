"""``flytekit.types.structured.structured_dataset``'s user-facing names (the class lives in ``values``)."""

from typing import TypeAlias

from stratoflow.values._structured import CSV, GENERIC_FORMAT, PARQUET, StructuredDataset

# flytekit's alias for a storage format's name ("parquet", "csv").
StructuredDatasetFormat: TypeAlias = str

__all__ = ["CSV", "GENERIC_FORMAT", "PARQUET", "StructuredDataset", "StructuredDatasetFormat"]
