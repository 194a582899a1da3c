"""Real secreview processes for tests: `secreview serve` on a free loopback port, stopped for sure afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SECREVIEW_", "DATABASE_URL"))}
    for name, value in settings.model_dump().items():
        if value is None or value == [] or name == "secreview_config":
            continue
        if isinstance(value, dict):  # SECREVIEW_JIRA_FIELD_MAP: name=field pairs
            env[name.upper()] = ",".join(f"{k}={v}" for k, v in value.items())
        else:
            env[name.upper()] = ",".join(value) if isinstance(value, list) else str(value)
    return env


def wait_ready(url: str, timeout: float = 20.0) -> None:
    """Polls /readyz until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not become ready")


@contextmanager
def serve_process(settings: Settings, *, extra_args: tuple[str, ...] = (), port: int | None = None,
                  log_path: Path | None = None) -> Iterator[dict[str, Any]]:
    """Starts `secreview serve` as its own process group; yields its url and Popen; kills it at the end."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
        env=settings_env(settings), cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        yield {"url": url, "process": process, "port": port}
    finally:
        stop_process(process)
        if log_path:
            log.close()  # type: ignore[union-attr]


def stop_process(process: subprocess.Popen[bytes], *, hard: bool = False, timeout: float = 10.0) -> None:
    """SIGTERM (or SIGKILL) to the process group, then wait; SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is pid (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def alive(pid: int) -> bool:
    """Whether pid is a live process (not a zombie waiting for its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
