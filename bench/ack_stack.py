"""The processes of bench/ack.py: the fake Slack, `secreview serve` and the bare app, stopped whatever happens."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench import common
from bench.ack_load import BOT_TOKEN, DIGEST, REVIEWER, SECURITY, SIGNING_SECRET


@dataclass
class Target:
    """One app under load: where it listens and the processes whose CPU it uses."""

    name: str
    host: str
    port: int
    child: common.Child | None = None


class Stack:
    """The fake Slack, secreview and the bare app as child processes; stopped whatever happens."""

    def __init__(self, *, threads: int, listener_threads: int, out: Path) -> None:
        self.out = out
        self.threads = threads
        self.listener_threads = listener_threads
        self.fake: common.Child | None = None
        self.targets: dict[str, Target] = {}
        self.fake_url = ""

    def start(self) -> Stack:
        """Starts the three processes and waits until each answers."""
        py = sys.executable
        self.out.mkdir(parents=True, exist_ok=True)
        fake_port = common.free_port()
        # The fake stands in for slack.com, which is not on this machine: at idle priority it takes only the CPU
        # that the apps and the senders leave, instead of competing with them (only secreview calls it).
        self.fake = common.Child("fake_slack", [py, "-m", "sandbox.fake_slack", "--port", str(fake_port)], idle=True,
                                 log_dir=self.out)
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.fake.wait_line("http://", timeout=30)
        database = self.database = self.out / "ack.db"
        for stem in ("ack", "ack-queue"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.out / stem}.db{suffix}").unlink(missing_ok=True)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.fake_url}/api/", "DATABASE_URL": f"sqlite:///{database}",
            "SECREVIEW_SECURITY_CHANNEL": SECURITY, "SECREVIEW_DIGEST_CHANNEL": DIGEST,
            "SECREVIEW_REVIEWERS": f"{REVIEWER},S0REVIEWERS", "SECREVIEW_ADMINS": "U0CAROL",
            "SECREVIEW_LISTENER_THREADS": str(self.listener_threads), "PYTHONUNBUFFERED": "1",
        }
        secreview_port, bare_port = common.free_port(), common.free_port()
        # The scheduler stays off: a catch-up digest at start would land in the first round.
        command = [str(Path(py).parent / "secreview"), "serve", "--host", "127.0.0.1", "--port", str(secreview_port),
                   "--threads", str(self.threads), "--no-scheduler"]
        secreview = common.Child("secreview", command, env=env, log_dir=self.out)
        bare = common.Child("bare_app", [py, str(common.ROOT / "bench" / "bare_app.py"), "--port", str(bare_port),
                                         "--threads", str(self.threads)], env=env, log_dir=self.out)
        self.targets = {"secreview": Target("secreview", "127.0.0.1", secreview_port, secreview),
                        "bare": Target("bare", "127.0.0.1", bare_port, bare)}
        for target in self.targets.values():
            assert target.child is not None
            target.child.wait_http(f"http://127.0.0.1:{target.port}/healthz", timeout=60)
        return self

    def children(self) -> list[common.Child]:
        """Every process of the stack."""
        found = [t.child for t in self.targets.values() if t.child is not None]
        return [*found, *([self.fake] if self.fake else [])]

    def cpu(self, name: str) -> float:
        """CPU seconds an app's processes (secreview's worker included) have used so far."""
        child = self.targets[name].child
        return child.cpu_seconds() if child else 0.0

    def ack_cpu(self, name: str) -> float:
        """CPU seconds of the process that answers the requests."""
        child = self.targets[name].child
        return child.own_cpu_seconds() if child else 0.0

    def work_done(self) -> dict[str, int]:
        """What secreview's database holds once the stack is idle: reviews opened, requests still queued."""
        import sqlite3

        counts = {}
        for key, path, table in (("reviews_opened", self.database, "reviews"),
                                 ("still_queued", self.database.with_name("ack-queue.db"), "queued_requests")):
            try:
                with sqlite3.connect(path) as connection:
                    counts[key] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.Error:
                counts[key] = -1  # not there: shown as such rather than as a count
        return counts

    def stop(self) -> None:
        """Stops everything (apps first, then the fake they talk to)."""
        for child in self.children():
            child.stop()
