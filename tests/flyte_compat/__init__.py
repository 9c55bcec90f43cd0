"""Flyte compatibility: Flyte's own documented workflows, with nothing changed but their imports."""
