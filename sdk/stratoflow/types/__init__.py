"""Flyte's type modules under their flytekit paths: ``stratoflow.types.file``, ``stratoflow.types.directory``,
``stratoflow.types.structured``, ``stratoflow.types.error``."""
