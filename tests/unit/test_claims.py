"""Claims name their process, so a process started after a crash knows which claims nobody holds any more."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from bot.run.claims import holder_is_gone, instance_id


def test_instance_ids_name_host_and_process() -> None:
    host, pid, suffix = instance_id().split(":")
    assert host == socket.gethostname() and pid == str(os.getpid()) and len(suffix) == 6
    assert instance_id() != instance_id()


def test_only_a_stopped_process_of_this_host_is_gone() -> None:
    here = socket.gethostname()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    assert holder_is_gone(f"{here}:{finished.stdout.strip()}:abc123")
    assert not holder_is_gone(instance_id())  # this very process
    assert not holder_is_gone(f"{here}:1:abc123")  # alive (init), perhaps not ours to signal: not gone
    assert not holder_is_gone(f"another-host.example:{finished.stdout.strip()}:abc123")
    assert not holder_is_gone("flow-worker")  # a name without a pid
    assert not holder_is_gone("")
