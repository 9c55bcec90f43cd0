"""flytekit's ``Deck``: HTML a task writes about itself, stored per node beside its outputs.

A task declared ``@task(enable_deck=True)`` has its decks (``Deck(name, html)`` made while it
runs, and ``current_context().default_deck``) joined into one page when it succeeds and stored
at :func:`protocol.deck_key` (``runs/<workflow>/<run>/decks/<node>.html``): under the local home, or in the
data bucket on AWS. Without ``enable_deck`` the decks are dropped, as in flytekit (which logs a
warning for a ``publish()``). :func:`deck_location` says where a node's page is, for
``executions show`` and the UI.

Example:
    >>> from stratoflow import Deck, current_context, task
    >>> @task(enable_deck=True)
    ... def report(n: int) -> int:
    ...     Deck("numbers", f"<p>{n}</p>").append("<p>more</p>")
    ...     current_context().default_deck.append("<b>done</b>")
    ...     return n
"""

from __future__ import annotations

import html as _html
import logging
from typing import TYPE_CHECKING

from stratoflow.define import _execution
from stratoflow.ir import _storage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stratoflow.define._checkpoint import RunStorage

__all__ = ["Deck", "deck_html", "deck_location", "write_decks"]

logger = logging.getLogger("stratoflow.deck")


class Deck:
    """A named HTML section of the running task's deck page (flytekit's ``Deck``).

    Example:
        >>> Deck("summary", "<p>rows: 3</p>").append("<p>ok</p>").html
        '<p>rows: 3</p>\\n<p>ok</p>'
    """

    def __init__(self, name: str, html: str | None = "", auto_add_to_deck: bool = True) -> None:
        self._name = name
        self._html = html or ""
        if auto_add_to_deck:
            _execution.current_context().decks.append(self)

    def append(self, html: str) -> Deck:
        """Add ``html`` to this deck, on a new line (flytekit's), and return the deck."""
        if not isinstance(html, str):
            raise TypeError(f"Deck.append takes HTML text, not {type(html).__name__}")
        self._html = f"{self._html}\n{html}"
        return self

    @property
    def name(self) -> str:
        """The deck's tab name."""
        return self._name

    @property
    def html(self) -> str:
        """The deck's HTML so far."""
        return self._html

    @staticmethod
    def publish() -> None:
        """Store the running task's decks now (they are stored when it succeeds anyway)."""
        params = _execution.current_context()
        if not params.enable_deck:
            logger.warning("Deck.publish() in a task without enable_deck=True: no deck is stored")
            return
        params.publish_decks()


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:0}}nav{{background:#f2f2f2;padding:.5em 1em}}
nav a{{margin-right:1em}}section{{padding:1em;border-bottom:1px solid #ddd}}</style></head>
<body><nav>{nav}</nav>{body}</body></html>
"""


def deck_html(title: str, decks: Sequence[Deck]) -> str:
    """One page of ``decks``: a link per deck, then each deck's HTML (not escaped: it is HTML)."""
    # Decks with one name are one deck (flytekit keys them by name, the last one winning).
    by_name = {deck.name: deck.html for deck in decks}
    nav = "".join(f'<a href="#deck-{i}">{_html.escape(name)}</a>' for i, name in enumerate(by_name))
    body = "".join(
        f'<section id="deck-{i}"><h2>{_html.escape(name)}</h2>\n{text}\n</section>'
        for i, (name, text) in enumerate(by_name.items())
    )
    return _PAGE.format(title=_html.escape(title), nav=nav, body=body)


def write_decks(storage: RunStorage, workflow: str, run_id: str, node: str, decks: Sequence[Deck]) -> str:
    """Store a node's deck page (replacing an earlier attempt's) and return where it is."""
    key = _storage.deck_key(workflow, run_id, node)
    storage.put(key, deck_html(f"{node} ({run_id})", decks).encode())
    return storage.uri(key)


def deck_location(storage: RunStorage, workflow: str, run_id: str, node: str) -> str | None:
    """Where node ``node`` of run ``run_id`` of ``workflow`` keeps its deck page (a path, or an
    ``s3://`` URI), or ``None`` when it has none (no ``enable_deck``, not run yet, or a cache hit)."""
    key = _storage.deck_key(workflow, run_id, node)
    return storage.uri(key) if storage.get(key) is not None else None
