"""The sandbox's saved cache folder: listing and clearing it (by task ref or name) needs no emulator."""

from __future__ import annotations

import json
from pathlib import Path

from stratoflow.cli._sandbox_store import SandboxStore


def _item(key: str, task: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": key}, "task": {"S": task}, "version": {"S": "1"}, "created": {"N": "1.0"}}


def test_clear_by_task_keeps_the_others_and_clear_all_removes_the_folder(tmp_path: Path) -> None:
    store = SandboxStore(tmp_path / "sandbox")
    assert store.entries() == [] and store.clear() == 0
    store.root.mkdir()
    (store.blobs / "ab").mkdir(parents=True)
    (store.blobs / "ab" / "abcd").write_bytes(b"x")
    items = [_item("k1", "flows:double"), _item("k2", "flows:halve"), _item("k3", "other:double_it")]
    store.items.write_text(json.dumps(items), encoding="utf-8")
    assert store.clear("double") == 1  # by name: 'flows:double', never 'other:double_it'
    assert [item["pk"]["S"] for item in store.entries()] == ["k2", "k3"]
    assert store.clear("flows:halve") == 1
    assert store.clear() == 1
    assert not store.root.exists()
