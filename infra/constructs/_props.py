"""Validate a construct's keyword-only props together and raise once with every problem."""

from __future__ import annotations

from stratoflow.errors import ConfigError

__all__ = ["PropsError", "raise_if_problems"]


class PropsError(ConfigError):
    """Invalid construct props; ``problems`` lists every one, so a user fixes them in one go.

    Attributes:
        construct: The construct class whose props were rejected.
        problems: One sentence per problem.
    """

    def __init__(self, construct: str, problems: list[str]) -> None:
        self.construct = construct
        self.problems = list(problems)
        numbered = "\n".join(f"  {i}. {problem}" for i, problem in enumerate(self.problems, 1))
        super().__init__(f"invalid props for {construct}:\n{numbered}")


def raise_if_problems(construct: str, problems: list[str]) -> None:
    """Raise :class:`PropsError` naming ``construct`` when ``problems`` is not empty."""
    if problems:
        raise PropsError(construct, problems)
