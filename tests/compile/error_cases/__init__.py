"""Workflows the ASL compiler must reject (with their source line)."""
