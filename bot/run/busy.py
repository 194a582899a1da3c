"""How many Slack requests the HTTP process is answering right now, shared with its worker process.

The worker runs at idle priority, yet its work still slows the answers: on two CPUs the processes share caches
and memory bandwidth (and, in a virtual machine, often one physical core), so bench/ack.py's HTTP process used
10–25 % more CPU per request whenever the worker was busy beside it. The worker therefore waits, between two
batches, until the HTTP process has no request in hand (for at most `MAX_PAUSE` each time): a burst of
requests is answered first and worked through right after. Work that still waits a minute is caught up
regardless (bot/run/worker.py).

A small file mapped into both processes: one 64-bit counter, written by the HTTP process only.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile
import threading
import time
from pathlib import Path

MAX_PAUSE = 1.0  # seconds a batch waits at most for the HTTP process to be free
POLL = 0.01
_COUNTER = struct.Struct("q")


class BusySignal:
    """The counter: `enter`/`leave` around each request (HTTP process), `wait_quiet` before each batch (worker)."""

    def __init__(self, path: Path, *, owner: bool) -> None:
        self.path = path
        self._owner = owner
        with path.open("r+b") as file:
            self._map = mmap.mmap(file.fileno(), _COUNTER.size)
        self._lock = threading.Lock()
        self._in_flight = 0

    @classmethod
    def create(cls) -> BusySignal:
        """A new signal in a private temporary file (the HTTP process)."""
        handle, name = tempfile.mkstemp(prefix="secreview-busy-")
        with os.fdopen(handle, "wb") as file:
            file.write(bytes(_COUNTER.size))
        return cls(Path(name), owner=True)

    @classmethod
    def attach(cls, path: Path) -> BusySignal | None:
        """The HTTP process's signal (the worker); None if it cannot be opened: the worker then never waits."""
        try:
            return cls(path, owner=False)
        except (OSError, ValueError):
            return None

    def enter(self) -> None:
        """A request arrived."""
        with self._lock:
            self._in_flight += 1
            _COUNTER.pack_into(self._map, 0, self._in_flight)

    def leave(self) -> None:
        """Its answer went out."""
        with self._lock:
            self._in_flight -= 1
            _COUNTER.pack_into(self._map, 0, self._in_flight)

    def busy(self) -> bool:
        """Whether the HTTP process is answering a request now."""
        return bool(_COUNTER.unpack_from(self._map, 0)[0] > 0)

    def wait_quiet(self, max_seconds: float = MAX_PAUSE) -> None:
        """Waits until no request is in hand, or `max_seconds` passed."""
        deadline = time.monotonic() + max_seconds
        while self.busy() and time.monotonic() < deadline:
            time.sleep(POLL)

    def close(self) -> None:
        """Unmaps it; the HTTP process also removes the file."""
        with contextlib.suppress(ValueError, OSError):
            self._map.close()
        if self._owner:
            self.path.unlink(missing_ok=True)
