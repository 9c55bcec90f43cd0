"""``flytekit.deck`` under stratoflow: :class:`Deck` and flytekit's core renderers.

Example:
    >>> from stratoflow.deck import Deck, MarkdownRenderer
    >>> html = MarkdownRenderer().to_html("# Title")
"""

from stratoflow.deck.deck import Deck
from stratoflow.deck.renderer import ArrowRenderer, MarkdownRenderer, SourceCodeRenderer, TopFrameRenderer

__all__ = ["ArrowRenderer", "Deck", "MarkdownRenderer", "SourceCodeRenderer", "TopFrameRenderer"]
