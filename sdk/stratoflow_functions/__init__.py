"""Thin AWS entry points over the SDK: the Lambda handlers and the Fargate container entrypoint.

A package of its own, beside ``stratoflow`` in the same distribution, because these are the
only modules that import ``aws_lambda_powertools``; import-linter holds that, and that
nothing imports them but the emulator (``stratoflow.testing``), which runs them in-process.
"""
