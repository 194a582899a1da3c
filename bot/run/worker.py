"""`secreview work`: the process that does what `secreview serve` acknowledged, out of the acknowledgements' way.

The HTTP process answers Slack; this process runs the listeners of what it queued (bot/run/workqueue.py), delivers
the outbox, runs the digest and reminder jobs and replays kept events. It keeps off the CPU the answers need:

- "idle" priority (the default, Linux): its threads run under SCHED_IDLE, so they get only CPU time that no
  other process wants and a request arriving for the HTTP process takes the CPU from them at once. Lowering
  the nice value is not enough: the kernel's scheduler (EEVDF) lets a running task finish its time slice before
  a waking one of higher priority runs, and bench/ack.py's acks p99 against a bare Bolt app was ×1.6–2.0 at
  nice 10, ×1.25–1.4 with SCHED_IDLE. Work that has waited longer than CATCH_UP_AFTER (the machine was kept
  busy by something else) is then done by the main thread and its own threads, which stay at nice 10: they
  inherit the normal policy, and an unprivileged thread cannot leave SCHED_IDLE once in it.
- it keeps off the lowest CPU when there are two or more (SECREVIEW_WORKER_CPUS): one CPython process uses about
  one CPU anyway, and the HTTP process keeps a CPU and its cache to itself.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.run.busy import BusySignal
from bot.slack.app import Listeners
from storage.models import utcnow

log = logging.getLogger(__name__)

CATCH_UP_AFTER = timedelta(seconds=60)
LOW_NICE = 10


class WorkerSupervisor:
    """Keeps one `secreview work` child process running beside the HTTP server, and stops it with the server."""

    def __init__(self, argv: list[str], *, max_backoff: float = 30.0) -> None:
        self._argv = argv
        self._max_backoff = max_backoff
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._supervise, name="secreview-supervisor", daemon=True)

    def start(self) -> None:
        """Starts the child, and the thread that starts it again if it exits."""
        self._thread.start()

    def alive(self) -> bool:
        """Whether the worker process is running (readiness)."""
        with self._lock:
            return self._process is not None and self._process.poll() is None

    def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = subprocess.Popen(self._argv)
            code = self._process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:
                backoff = 1.0  # it ran a while: a fresh failure, not a crash loop
            log.error("the worker process exited with code %s; starting it again in %.0f s", code, backoff)
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the child (it finishes the batch under way), SIGKILL if it is still there after timeout."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("the worker process did not stop within %s s; killing it", timeout)
            process.kill()
            process.wait(5)


def keep_to_worker_cpus(settings: Settings) -> list[int] | None:
    """Keeps this process to SECREVIEW_WORKER_CPUS; returns the CPUs it runs on (None: not Linux)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    available = os.sched_getaffinity(0)
    chosen = settings.worker_cpus(available)
    if chosen != available:
        try:
            os.sched_setaffinity(0, chosen)
        except OSError as exc:
            log.warning("could not keep the worker to CPUs %s: %s", sorted(chosen), exc)
            return sorted(available)
    return sorted(chosen)


def lower_this_thread(nice: int) -> None:
    """Raises this process's (and every thread it starts later) nice value to `nice`."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if nice > current:
            os.nice(nice - current)
    except OSError as exc:
        log.warning("could not lower the worker's priority: %s", exc)


def run_idle(start: Callable[[], None]) -> bool:
    """Runs `start` on a thread under SCHED_IDLE: the threads it starts inherit that policy. False if the system
    refused SCHED_IDLE (then `start` ran on a plain thread)."""
    outcome = {"idle": False}
    failure: list[BaseException] = []

    def starter() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread only, on Linux
            outcome["idle"] = True
        except (AttributeError, OSError) as exc:
            log.warning("could not run the worker's threads at idle priority: %s", exc)
        try:
            start()
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=starter, name="secreview-idle-starter")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome["idle"]


class CatchUp:
    """On the main thread, at low priority: does queued work and notices that waited past CATCH_UP_AFTER."""

    def __init__(self, *, oldest: list[Callable[[], datetime | None]], run: list[Callable[[], object]],
                 stopped: threading.Event) -> None:
        self._oldest = oldest  # per source: when its longest-waiting item arrived
        self._run = run  # per source: one batch; truthy while there may be more
        self._stopped = stopped
        self.batches = 0

    def check(self) -> None:
        """Catches up each source whose oldest waiting item is too old."""
        now = utcnow()
        for oldest, run in zip(self._oldest, self._run, strict=True):
            arrived = oldest()
            if arrived is None or now - arrived < CATCH_UP_AFTER:
                continue
            log.warning("work has waited %.0f s: catching up at low priority", (now - arrived).total_seconds())
            while not self._stopped.is_set() and run():
                self.batches += 1


def run_worker(settings: Settings, *, listeners: Listeners, scheduler: bool = True, parent_pid: int | None = None,
               busy_file: Path | None = None) -> None:
    """`secreview work`: runs what `secreview serve` queued, the outbox, the scheduler and the inbox replays."""
    from bot.common.render import raw_message
    from bot.config import SettingsError, problem_line
    from bot.run.assemble import build_services, configure_logging, start_background
    from bot.run.claims import instance_id
    from bot.run.delivery import OutboxWorker
    from bot.run.workqueue import QueueWorker, WorkQueue
    from bot.slack.app import build_app, replay_into, run_queued_into

    configure_logging(settings)
    if settings.secreview_worker_priority != "normal":
        lower_this_thread(LOW_NICE)  # before any thread exists, so every one inherits it
    cpus = keep_to_worker_cpus(settings)
    me = instance_id()
    services = build_services(settings, instance=me)
    queue = WorkQueue.open(settings.database_url, services.engine)
    if queue is None:
        raise SettingsError(problem_line("database_url", raw_message("settings.start.memory_database_worker")))
    # Bolt checks the token at start and keeps the answer (a failure ends this process; serve starts another):
    # checked lazily, a rate-limited auth.test on the first queued request made Bolt drop that request.
    app = build_app(settings, services, listeners=listeners, token_verification=not settings.oauth_enabled,
                    run_queued=True)
    dispatch = run_queued_into(app)
    busy = BusySignal.attach(busy_file) if busy_file is not None else None
    pause = busy.wait_quiet if busy is not None else None
    worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id=me, pause=pause)
    outbox = services.outbox_worker
    if isinstance(outbox, OutboxWorker):
        outbox.pause = pause
    stops: list[Callable[[], None]] = []

    def start() -> None:
        stops.append(start_background(services, scheduler=scheduler, instance=me, replay=replay_into(app)))
        worker.start()

    idle = False
    if settings.secreview_worker_priority == "idle":
        idle = run_idle(start)
    else:
        start()
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    catch_up = None
    if idle:
        # Its own QueueWorker: the threads of its pool are started from this (low, not idle) thread.
        late_worker = QueueWorker(queue=queue, dispatch=dispatch, instance_id=me)
        assert isinstance(outbox, OutboxWorker)
        catch_up = CatchUp(
            oldest=[lambda: queue.oldest_due(utcnow()), lambda: outbox.oldest_due(utcnow())],
            run=[late_worker.run_once, lambda: outbox.run_once().sent],
            stopped=stopped,
        )
    log.info("secreview worker %s running (priority %s%s, CPUs %s)", me, settings.secreview_worker_priority,
             "" if idle or settings.secreview_worker_priority != "idle" else " refused: low", cpus or "all")
    try:
        while not stopped.wait(1.0):
            if parent_pid is not None and os.getppid() != parent_pid:
                log.error("the serving process %s is gone; the worker stops too", parent_pid)
                break
            if catch_up is not None:
                try:
                    catch_up.check()
                except Exception:  # the database away: the idle threads log it too; try again in a second
                    log.warning("catch-up check failed", exc_info=True)
    finally:
        worker.stop()
        for stop in stops:
            stop()
        queue.dispose()
        if busy is not None:
            busy.close()
        log.info("worker stopped")
