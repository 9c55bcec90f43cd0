"""The ``stratoflow`` command line."""

from stratoflow.cli._main import main

__all__ = ["main"]
