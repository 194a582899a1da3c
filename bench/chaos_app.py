"""The app under chaos: `secreview serve` as a child process (started, SIGKILLed, restarted) and its database."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.chaos_config import BOT_TOKEN, REVIEWER, SECURITY, SIGNING_SECRET
from storage import db

# The child runs the real `secreview serve`; the only thing this launcher adds is a parent-death signal, so
# a harness that dies itself never leaves the app running.
LAUNCHER = """
import ctypes, os, signal, sys
with __import__("contextlib").suppress(Exception):
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(3)  # the harness is already gone
del sys.argv[1:2]
from bot.cli import main
main(prog_name="secreview")
"""


# ----------------------------------------------------------------------------------------- the app process

def free_port() -> int:
    """A TCP port free on loopback now (kept for every restart, as Slack's request URL is fixed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(*, api_url: str, database_url: str, reviewers: str = REVIEWER,
                    security_channel: str = SECURITY) -> dict[str, str]:
    """The child's environment: the inherited one without secreview/Slack settings, plus the run's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "SECREVIEW_")) and k != "DATABASE_URL"}
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url, "SECREVIEW_REVIEWERS": reviewers,
        "SECREVIEW_SECURITY_CHANNEL": security_channel, "PYTHONUNBUFFERED": "1",
    })
    return env


class AppProcess:
    """`secreview serve` as a child process on a fixed port: started, SIGKILLed, restarted, stopped."""

    def __init__(self, *, env: dict[str, str], port: int, workdir: Path, threads: int = 8) -> None:
        self.env = env
        self.port = port
        self.workdir = workdir
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.failed_starts = 0
        self.kills = 0
        self._log = (workdir / "app.log").open("ab")

    @property
    def url(self) -> str:
        """The app's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", LAUNCHER, str(os.getpid()), "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--threads", str(self.threads), "--no-scheduler"]
        # Its own session: a kill reaches the whole group, and the terminal's Ctrl-C reaches only us.
        # The working directory is empty so no stray .env changes the settings.
        return subprocess.Popen(command, cwd=self.workdir, env=self.env, stdout=self._log, stderr=self._log,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, timeout: float = 60.0) -> None:
        """Starts the app and waits until /readyz answers 200 (respawning it if start-up itself failed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process = self._spawn()
            self.starts += 1
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    # e.g. auth.test answered 500 at start-up: a supervisor would start it again.
                    self.failed_starts += 1
                    time.sleep(0.2)
                    break
                if self.ready():
                    return
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"secreview did not become ready within {timeout} s; see {self.workdir / 'app.log'}")

    def ready(self) -> bool:
        """Whether GET /readyz answers 200 now."""
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"{self.url}/readyz", timeout=2) as reply:
                return bool(reply.status == 200)
        except (OSError, http.client.HTTPException):
            return False

    def kill(self) -> None:
        """SIGKILL, in the middle of whatever it is doing."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.kills += 1
        self.process = None

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def close(self) -> None:
        """Stops the app and closes its log."""
        self.stop()
        self._log.close()


# ---------------------------------------------------------------------------------------------- databases

@contextlib.contextmanager
def chaos_database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file in the work directory, or a PostgreSQL schema of its own."""
    if not url or url.startswith("sqlite"):
        path = workdir / "chaos.db"
        sqlite_url = f"sqlite:///{path}"
        engine = db.make_engine(sqlite_url)
        db.upgrade(engine)
        engine.dispose()
        yield sqlite_url
        return
    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = db.make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = scoped.render_as_string(hide_password=False)
    try:
        engine = db.make_engine(rendered)
        db.upgrade(engine)  # `secreview db upgrade`, as before any PostgreSQL start
        engine.dispose()
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
