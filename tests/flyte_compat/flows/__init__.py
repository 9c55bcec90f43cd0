"""Flyte workflows as Flyte's documentation writes them; only ``from flytekit ...`` became ``from stratoflow ...``.

``basics/``, ``data_types_and_io/``, ``advanced_composition/`` and ``development_lifecycle/`` are
files of flyteorg/flytesnacks (Apache-2.0, commit c9b2c44dc5d0ce42e482be1ffb16c8b19e72c23c,
``examples/<same folder>/<same folder>/<file>``), byte for byte but their flytekit import lines. ``flyte_style.py`` is written here in the same style for what
those files do not cover. Lint and format skip this folder (pyproject.toml): the code is Flyte's.
"""
