"""Shared by the benchmarks: percentiles, a plain table, the JSON last line, child processes that always stop."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"  # git-ignored: logs, cached databases


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation (q in [0, 1]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max of durations given in seconds, in milliseconds (rounded to 0.01)."""
    return {
        "p50": round(percentile(seconds, 0.50) * 1000, 2),
        "p95": round(percentile(seconds, 0.95) * 1000, 2),
        "p99": round(percentile(seconds, 0.99) * 1000, 2),
        "max": round(max(seconds, default=0.0) * 1000, 2),
    }


def ratio(a: float, b: float) -> float:
    """a / b rounded to 0.01 (inf when b is 0 and a is not)."""
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return round(a / b, 2)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells) if cells else False for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def emit(figures: Mapping[str, Any]) -> None:
    """Prints the figures as one JSON object: always the last line of a benchmark's output."""
    print(json.dumps(figures, separators=(",", ":"), sort_keys=False), flush=True)


def note(text: str) -> None:
    """Progress for the person watching, on stderr so stdout stays the table and the JSON line."""
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A child process in its own process group, logged to a file, stopped with its whole group."""

    _alive: list[Child] = []

    def __init__(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 log_dir: Path = OUT, idle: bool = False) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        # Own session: a stop signal reaches everything it started, and our Ctrl-C does not race it.
        self.proc = subprocess.Popen(list(argv), stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, **(env or {})}, start_new_session=True,
                                     preexec_fn=_idle_priority if idle else None)
        Child._alive.append(self)

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        return self.proc.pid

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Waits until GET url answers 200; raises (with the log's tail) if the child died or time ran out."""
        deadline = time.monotonic() + timeout
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError), opener.open(url, timeout=1) as reply:
                if reply.status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout} s:\n{self.tail()}")

    def wait_line(self, prefix: str, timeout: float = 30.0) -> str:
        """Waits until the child's log has a line starting with prefix; returns that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} printed no {prefix!r} within {timeout} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the child and the processes it started (a worker) have used so far."""
        return sum(_process_cpu(pid) for pid in [self.pid, *descendants(self.pid)])

    def own_cpu_seconds(self) -> float:
        """User + system CPU time of the child process alone (Linux /proc; 0.0 elsewhere)."""
        return _process_cpu(self.pid)

    def tail(self, lines: int = 30) -> str:
        """The end of the child's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the group (a clean shutdown), SIGKILL if it is still there after timeout."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        if self in Child._alive:
            Child._alive.remove(self)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    def stop_all(cls) -> None:
        """Stops every child still running (at exit, whatever happened)."""
        for child in list(cls._alive):
            with contextlib.suppress(Exception):
                child.stop(timeout=3)


def _idle_priority() -> None:
    # In the child before it runs: it gets only CPU time that no other process wants (Linux SCHED_IDLE).
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """Every live process below pid (Linux /proc; empty elsewhere)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_idle(children: Sequence[Child], *, quiet: float = 0.3, limit: float = 120.0) -> tuple[float, bool]:
    """Waits until the children use (almost) no CPU for `quiet` seconds, so one app's leftovers never land in
    the other's measurement; returns the seconds waited until that calm began, and whether it came at all."""
    started = time.monotonic()
    last = sum(c.cpu_seconds() for c in children)
    calm_since = started
    while time.monotonic() - started < limit:
        time.sleep(0.05)
        now = sum(c.cpu_seconds() for c in children)
        if now - last > 0.011:  # more than about a clock tick of work in 50 ms: still busy
            calm_since = time.monotonic()
        last = now
        if time.monotonic() - calm_since >= quiet:
            return calm_since - started, True
    return time.monotonic() - started, False


def install_cleanup() -> None:
    """Stops every child at exit, on SIGTERM too (called by a benchmark's main, never at import)."""
    atexit.register(Child.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # sys.exit runs atexit


def only_run(directory: Path) -> None:
    """Exits with a message if another run already works in `directory`: two runs at once would share its
    files and each other's CPUs, and both would print wrong figures. The lock lasts until this process ends."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = (directory / ".lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f"another benchmark is running in {directory}; wait for it to finish")
    _held.append(handle)


_held: list[Any] = []
