# Flyte's deck examples (docs "Decks": the Markdown and top-frame renderers, a named deck, the
# default deck, disable_deck=False), imports changed.
import pandas as pd

import stratoflow as flytekit
from stratoflow import map_task, task, workflow
from stratoflow.deck import MarkdownRenderer, TopFrameRenderer


@task(enable_deck=True)
def t1(a: int) -> str:
    md_text = "#Hello Flyte\n##Hello Flyte\n###Hello Flyte"
    flytekit.Deck("demo", TopFrameRenderer(2).to_html(pd.DataFrame({"col": list(range(a))})))
    flytekit.current_context().default_deck.append(MarkdownRenderer().to_html(md_text))
    return md_text


@task(disable_deck=False)
def t2(a: int) -> int:
    flytekit.current_context().default_deck.append(f"<p>a is {a}</p>")
    return a * 2


@task
def t3(a: int) -> int:
    flytekit.Deck("dropped", "<p>no enable_deck: not stored</p>")
    return a + 1


@workflow
def wf(a: int = 3) -> tuple[str, int, int, list[int]]:
    return t1(a=a), t2(a=a), t3(a=a), map_task(t2)(a=[1, 2])


# Not the docs': a deck written from a container (8 vCPU routes the task to Fargate).
@task(enable_deck=True, requests=flytekit.Resources(cpu=8, mem="32Gi"))
def big(a: int) -> int:
    flytekit.Deck("big", f"<p>{a * 10}</p>")
    return a * 10


@workflow
def container_wf(a: int = 4) -> int:
    return big(a=a)
