"""Lowering: a traced workflow (define) -> the IR (the only package that knows both)."""

from stratoflow.lower._lower import lower

__all__ = ["lower"]
