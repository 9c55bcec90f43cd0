"""The web UI in a real headless Chromium (Debian's, driven by Playwright; never a downloaded browser).

`stratoflow ui` runs as a subprocess on a free port over this test's STRATOFLOW_HOME; the
workflow runs in this process (same home), and the page must show what happened as a
person would see it. Screenshots are saved under build/ui-screenshots/ (the path is printed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_recorded
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from tests.conftest import REPO
from tests.ui import _ui_flows

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("STRATOFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = REPO / "build" / "ui-screenshots"
# Chromium as root, offline: no sandbox (root), and none of its background calls home, which
# this machine's closed network would refuse (slowly) at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What a person would wait for a page to catch up, generous for a loaded 2-core CI machine.
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's (apt-get install -y chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (it is in the dev extra: pip install -e '.[dev]')")
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def ui_url(subprocess_env: dict[str, str]) -> Iterator[str]:
    """`stratoflow ui --port 0` over this test's home; its first line names the real port."""
    server = subprocess.Popen(
        [sys.executable, "-m", "stratoflow.cli", "ui", "--port", "0"],
        cwd=REPO,
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if found is None:
            server.kill()
            pytest.fail(f"stratoflow ui did not start: {line!r} {server.communicate(timeout=10)[1]}")
        yield found.group(0)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_run_appears_in_the_list_and_its_nodes_turn_succeeded_live(
    browser: Any, ui_url: str, fast_options: RunOptions
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(ui_url)
    expect(page.locator("h1")).to_have_text("Runs")

    # A run that waits in its first node until released: the page must follow it live.
    held = lower(_ui_flows.held_squares)
    _ui_flows.RELEASE.clear()
    finished: list[Any] = []
    worker = threading.Thread(target=lambda: finished.append(run_recorded(held, {"n": 3}, fast_options)))
    worker.start()
    try:
        row = page.locator("tr.run-row").first
        expect(row).to_have_attribute("data-status", "RUNNING")  # the list polls: no reload
        expect(row.locator(".workflow")).to_have_text("held_squares")
        row.click()
        expect(page.locator("#run-meta")).to_contain_text("running")
        last = held.nodes[-1].id
        expect(page.locator(f'#dag g.node[data-node="{last}"]')).to_have_attribute("data-status", "pending")
    finally:
        _ui_flows.RELEASE.set()
        worker.join(timeout=30)
    assert finished, "the held run did not finish"
    for node in held.nodes:  # the run page polls while the run is RUNNING
        expect(page.locator(f'#dag g.node[data-node="{node.id}"]')).to_have_attribute(
            "data-status", "succeeded"
        )
    expect(page.locator("#run-meta")).to_contain_text("succeeded")
    expect(page.locator("#run-outputs")).to_contain_text('"o0": 14')
    # A node that was not cached shows its outputs too (the local run recorded them).
    page.locator(f'#dag g.node[data-node="{last}"]').click()
    expect(page.locator("#node-outputs")).to_contain_text("14")
    page.close()


def test_a_failed_run_is_listed_and_its_failed_node_shows_its_error_and_log(
    browser: Any, ui_url: str, fast_options: RunOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    spec = lower(_ui_flows.squares)
    run_recorded(spec, {"n": 3, "limit": 100}, fast_options)
    failing = spec.nodes[-1].id  # `check`, the last node
    with pytest.raises(TaskFailedError):
        run_recorded(spec, {"n": 3, "limit": 1}, fast_options)
    page.goto(f"{ui_url}#/?status=FAILED")
    failed_row = page.locator("tr.run-row")
    expect(failed_row).to_have_count(1)
    expect(failed_row).to_have_attribute("data-status", "FAILED")
    page.goto(ui_url)
    expect(page.locator("tr.run-row")).to_have_count(2)
    runs_shot = _shot(page, "runs-list.png")
    page.goto(f"{ui_url}#/?status=FAILED")
    page.locator("tr.run-row").click()
    box = page.locator(f'#dag g.node[data-node="{failing}"]')
    expect(box).to_have_attribute("data-status", "failed")
    expect(page.locator(f'#dag g.node[data-node="{spec.nodes[0].id}"]')).to_have_attribute(
        "data-status", "succeeded"
    )
    box.click()
    expect(page.locator("#node-panel")).to_have_attribute("data-node", failing)
    expect(page.locator("#node-error")).to_contain_text("total 14 is over the limit 1")
    expect(page.locator("#node-logs")).to_contain_text("checking 14 against 1")
    page.set_viewport_size({"width": 1440, "height": 900})  # the README's picture: a readable graph
    run_shot = _shot(page, "run-page.png")
    with capsys.disabled():
        print(f"\nUI screenshots: {runs_shot} {run_shot}")
    page.close()


def test_a_map_nodes_items_are_listed_with_their_logs(
    browser: Any, ui_url: str, fast_options: RunOptions
) -> None:
    from playwright.sync_api import expect

    spec = lower(_ui_flows.squares)
    mapped = next(node.id for node in spec.nodes if node.kind == "map")
    run = run_recorded(spec, {"n": 3, "limit": 100}, fast_options)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(f"{ui_url}#/runs/{run.run_id}/{mapped}")
    items = page.locator("#items tbody tr")
    expect(items).to_have_count(3)
    expect(page.locator("#node-panel")).to_contain_text("Items (3): 3 succeeded")
    expect(page.locator("#node-panel")).not_to_contain_text("null")
    items.nth(1).click()
    expect(page.locator("#item-detail")).to_contain_text("Item 1")
    expect(page.locator("#item-logs")).to_contain_text("squaring 2")
    page.close()
