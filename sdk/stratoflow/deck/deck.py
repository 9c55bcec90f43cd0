"""``flytekit.deck.deck``: :class:`Deck` (defined in ``stratoflow.define``, stored per node)."""

from stratoflow.define import Deck

__all__ = ["Deck"]
