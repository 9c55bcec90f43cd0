"""What a client asked of one execution beyond its inputs, read by the runner (Flyte's
``overwrite_cache``-style execution options).

The client stores it under the run (``_storage.run_options_key``) before the execution starts,
and only when it differs from the defaults; the runner reads it once per run and process, and a
run with none has the defaults. A ``@dynamic`` node's sub-run gets its parent's options: the
runner copies them when it plans the sub-run. Spelled ``protocol.<name>`` (re-exported by
``ir._protocol``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ExecutionOptions"]


class ExecutionOptions(BaseModel):
    """One execution's options.

    Attributes:
        cache: ``False`` is ``run --no-cache``: no task of the run reads the cache or writes it,
            as in a local run with ``use_cache=False``.
        overwrite_cache: ``True`` is ``run --overwrite-cache`` (Flyte's ``overwrite_cache``):
            cached tasks read nothing and run again, and each result replaces the entry of its
            key, as in a local run with ``overwrite_cache=True``.

    Example:
        >>> ExecutionOptions.model_validate_json(b'{"cache": false}').cache
        False
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cache: bool = True
    overwrite_cache: bool = False

    @property
    def is_default(self) -> bool:
        """Whether these are the options a run with no stored options has (nothing to store)."""
        return self == _DEFAULT


_DEFAULT = ExecutionOptions()
