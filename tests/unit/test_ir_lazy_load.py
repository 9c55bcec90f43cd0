"""``stratoflow.ir``'s lazily loaded submodules are whole for every thread, even mid-load (fresh process)."""

from __future__ import annotations

import subprocess
import sys

# One thread starts loading the protocol; the main thread asks for it once the module is in
# sys.modules but still running (pydantic takes tens of milliseconds to load), as two tasks
# decoding their first blob at once did in `stratoflow run examples/features.py`.
_PROBE = """
import sys, threading
from stratoflow import ir
name = "stratoflow.ir._protocol"
loader = threading.Thread(target=lambda: ir.protocol)
loader.start()
while name not in sys.modules:
    pass
partial = getattr(sys.modules[name].__spec__, "_initializing", False)
print(partial, callable(ir.protocol.blob_digest))
loader.join()
"""


def test_a_submodule_asked_for_while_another_thread_loads_it_is_whole(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=subprocess_env,
    )
    assert proc.returncode == 0, proc.stderr
    partial, whole = proc.stdout.split()
    assert partial == "True"  # the probe did catch the module half-made
    assert whole == "True"
