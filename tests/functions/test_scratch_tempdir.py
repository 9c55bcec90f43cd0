"""Containers emulated as threads end in any order: ``tempfile``'s directory never names a removed scratch."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from stratoflow_functions.container_entrypoint import temp_files_under


def test_scratch_folders_ending_out_of_order_restore_the_original(tmp_path: Path) -> None:
    before = tempfile.tempdir
    first, second = ExitStack(), ExitStack()
    first.enter_context(temp_files_under(str(tmp_path / "a")))
    second.enter_context(temp_files_under(str(tmp_path / "b")))
    assert tempfile.tempdir == str(tmp_path / "b")
    first.close()  # the first container ends while the second still runs
    assert tempfile.tempdir == str(tmp_path / "b")
    second.close()
    assert tempfile.tempdir == before  # not the first one's (removed) scratch
