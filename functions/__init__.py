"""Thin AWS entry points (Lambda handlers, the Fargate container entrypoint) over stratoflow.runtime."""
