"""Who holds a claim (an outbox row, a queued request), and whether that process is gone.

A claim is a lease: if its process dies, another takes the row over when the lease runs out (a minute or
two). A process started on the same machine after a crash need not wait that long: the claim names the host
and the process id, and a process that no longer exists there holds nothing.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path


def instance_id() -> str:
    """A name for this process in claims and logs: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def holder_is_gone(claimed_by: str) -> bool:
    """True when the claim was taken by a process of this host that no longer runs (or is a zombie).

    False whenever in doubt: another host's process, a name that is not ours, a pid that is in use again.
    """
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by someone else
    try:  # on Linux a killed process whose parent died before reaping it lingers as a zombie
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
