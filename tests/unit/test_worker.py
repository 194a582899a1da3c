"""The worker process's manners: idle priority, its CPUs, waiting for the acks, catching up what waited."""

from __future__ import annotations

import os
import sys
import threading
from datetime import timedelta

import pytest

from bot.config import Settings, parse_cpu_list
from bot.run import worker
from bot.run.busy import BusySignal
from storage.models import utcnow

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling calls")


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_cpu_lists_and_the_worker_cpus() -> None:
    assert parse_cpu_list("1-3,6") == {1, 2, 3, 6}
    assert parse_cpu_list("0") == {0}
    for bad in ("", "a", "3-1", "1,,2", "-1"):
        with pytest.raises(ValueError, match="CPU list"):
            parse_cpu_list(bad)
    assert _settings().worker_cpus({0, 1}) == {1}  # auto: off the lowest CPU
    assert _settings().worker_cpus({0}) == {0}  # one CPU: nothing to keep off
    assert _settings(secreview_worker_cpus="all").worker_cpus({0, 1}) == {0, 1}
    assert _settings(secreview_worker_cpus="2-3").worker_cpus({0, 1, 2, 3}) == {2, 3}
    assert _settings(secreview_worker_cpus="7").worker_cpus({0, 1}) == {0, 1}  # none of them here: all


@linux_only
def test_threads_started_idle_inherit_the_idle_policy_and_the_caller_keeps_its_own() -> None:
    seen: dict[str, int] = {}
    started = threading.Event()

    def start() -> None:
        def child() -> None:
            seen["child"] = os.sched_getscheduler(0)
            started.set()

        threading.Thread(target=child).start()

    assert worker.run_idle(start) is True
    started.wait(5)
    assert seen["child"] == os.SCHED_IDLE  # every thread the worker starts this way runs at idle priority
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the calling thread (the catch-up) does not


def test_run_idle_hands_back_what_the_start_raised() -> None:
    def start() -> None:
        raise RuntimeError("database unreachable")

    with pytest.raises(RuntimeError, match="database unreachable"):
        worker.run_idle(start)


def test_the_busy_signal_is_shared_and_waits_only_while_requests_are_in_hand() -> None:
    http_side = BusySignal.create()
    worker_side = BusySignal.attach(http_side.path)
    assert worker_side is not None
    try:
        assert not worker_side.busy()
        http_side.enter()
        http_side.enter()
        http_side.leave()
        assert worker_side.busy()
        released = threading.Timer(0.05, http_side.leave)
        released.start()
        worker_side.wait_quiet(max_seconds=5)
        assert not worker_side.busy()
        http_side.enter()
        worker_side.wait_quiet(max_seconds=0.02)  # never waits longer than it is told
        assert worker_side.busy()
    finally:
        worker_side.close()
        http_side.close()
    assert not http_side.path.exists()
    assert BusySignal.attach(http_side.path) is None  # gone: a worker started now simply never waits


def test_catch_up_runs_only_what_waited_too_long() -> None:
    now = utcnow()
    runs = {"queue": 3, "outbox": 3}

    def run(source: str) -> bool:
        runs[source] -= 1
        return runs[source] > 0

    catch_up = worker.CatchUp(
        oldest=[lambda: now - worker.CATCH_UP_AFTER - timedelta(seconds=5), lambda: now - timedelta(seconds=5)],
        run=[lambda: run("queue"), lambda: run("outbox")],
        stopped=threading.Event(),
    )
    catch_up.check()
    assert runs == {"queue": 0, "outbox": 3}  # the late source until it reported no more, the other untouched
    nothing = worker.CatchUp(oldest=[lambda: None], run=[lambda: pytest.fail("nothing waits")],
                             stopped=threading.Event())
    nothing.check()
