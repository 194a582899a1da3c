"""One background thread that repeats a pass: started once, woken early on demand, stopped cleanly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs `step()` at once, then again after `interval` seconds, or right away when it reports more work.

    `step` returns True when there may be more to do right behind; a database error is logged and the loop
    carries on after the interval (a restart or failover must not kill the thread).
    """

    def __init__(self, name: str, step: Callable[[], bool], interval: float) -> None:
        self._name = name
        self._step = step
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Asks for a pass now."""
        self._wake.set()

    def start(self) -> None:
        """Starts the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Lets the pass under way finish, then stops."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                more = self._step()
            except SQLAlchemyError:
                log.warning("%s: pass failed, the database is not answering", self._name, exc_info=True)
                more = False
            if more:
                continue
            self._wake.wait(self._interval)
            self._wake.clear()
