"""build_app(settings, services, listeners=...) -> slack_bolt.App: the composition root. Nothing happens at import.

The listeners (handlers/) are handed in by the entry points (bot/cli.py, the sandbox, the tests), so nothing in bot/
imports handlers/ and the import direction handlers → bot.slack holds.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.payload_utils import is_block_actions, is_shortcut, is_slash_command
from slack_sdk import WebClient

from bot.common import numbers
from bot.config import Settings
from bot.slack.client import make_client
from bot.slack.middleware import (
    DirectMiddleware,
    drop_replays,
    drop_seen_deliveries,
    inject_services,
    refuse_other_workspaces,
)
from bot.slack.queueing import FAILED, REPLAY
from bot.slack.services import Services
from bot.slack.verification import verify_requests

log = logging.getLogger(__name__)
T = TypeVar("T")


class _EnvironmentTokenNote(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused" (logged on every start).

    build_app hands Bolt only the client, which carries the bot token (or, with OAuth, none: each installation's
    comes from the store). Bolt still reads SLACK_BOT_TOKEN from the environment by itself, finds the same token
    there and warns that it is unused; there is no argument that stops that read, so the one false line goes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for that one message, True for every other."""
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


@dataclass(frozen=True)
class Listeners:
    """What handlers/ binds to an app: every listener, and the HTTP process's hand-off to its worker."""

    register: Callable[[App], None]
    register_handoff: Callable[[App], None]


def build_app(settings: Settings, services: Services, *, listeners: Listeners, token_verification: bool = True,
              client: WebClient | None = None, run_queued: bool = False) -> App:
    """A Bolt App wired to secreview's handlers; HTTP mode verifies signatures, Socket Mode needs none.

    With `services.work_queue` (serve's HTTP process) what changes something is stored for the worker process
    and acknowledged; `run_queued` (the worker process) runs each listener to its end before dispatch returns,
    so the worker knows a queued request is done when it deletes it.
    """
    bolt_logger = logging.getLogger("slack_bolt.App")  # where Bolt's App logs its start-up notes
    if not any(isinstance(f, _EnvironmentTokenNote) for f in bolt_logger.filters):
        bolt_logger.addFilter(_EnvironmentTokenNote())
    numbers.set_default_locale(settings.secreview_locale)  # amounts in every message, written one way
    executor = AckFirstExecutor(settings.secreview_listener_threads)
    # One workspace: the bot token travels in the client. Several: Bolt's OAuth flow finds each
    # workspace's token in the installation store and hands listeners a client carrying it.
    credentials: dict[str, Any] = (
        {"oauth_settings": services.oauth_settings, "client": client or make_client(settings, token="")}
        if services.oauth_settings is not None
        else {"client": client or make_client(settings)}
    )
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        **credentials,
        process_before_response=run_queued,
        listener_executor=executor,
        # Bolt's own check raises on a malformed timestamp and its error handler may then answer an unverified
        # request; ours refuses instead, and runs before authorization (the first middleware that could call
        # out: auth.test, the installation store).
        request_verification_enabled=False,
        before_authorize=DirectMiddleware(verify_requests(settings.slack_signing_secret, settings.slack_api_url)),
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
    )
    app.use(DirectMiddleware(inject_services(services)))
    app.use(DirectMiddleware(refuse_other_workspaces))
    app.use(DirectMiddleware(drop_replays))
    app.use(DirectMiddleware(drop_seen_deliveries))
    if services.work_queue is not None:
        listeners.register_handoff(app)
    app.use(executor.middleware)
    listeners.register(app)
    return app


class AckFirstExecutor(Executor):
    """Bolt's listener executor and the middleware that goes with it: no acknowledgement waits for a listener.

    Bolt acks an event before it hands the listener over, but answers a command or a click only once a listener
    thread has called ack(). bench/ack.py showed what that costs under load: the threads of one shared pool
    were all busy with earlier work (an announcement being opened, a "Take" waiting for SQLite's writer slot), so
    the next click's ack() waited for a free thread, for seconds at 200 requests/s. Every secreview command and
    button listener acks with nothing before doing anything else (answers go through respond(), views.open and
    the outbox), so `middleware` gives that same empty ack when the request arrives and Bolt answers Slack at
    once. What the listener does then is work after the ack, like an event's: it waits in a queue for one of a
    few workers (`threads // 8`, at least 2), commands and clicks (a person is waiting, a trigger_id lasts 3 s)
    before events. Few workers on purpose: more threads would not make CPython do more at once, only take the
    GIL from the request threads (at 200 requests/s, 4 workers gave acks a p50 of 430 ms, 2 gave 115 ms).
    Modal submissions are still acked by their listener (validation errors are part of the answer), on a pool
    of their own that never queues behind the work above.
    """

    def __init__(self, threads: int) -> None:
        self._awaiting_ack = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="secreview-listener")
        self._after_ack = _PriorityPool(max(2, threads // 8), name="secreview-acked")
        self._local = threading.local()

    def middleware(self, body: dict[str, Any], context: BoltContext, next: Any) -> None:
        """Acks a command, a click or a shortcut on arrival and notes the request (Bolt submits from the same
        thread)."""
        self._local.context = context
        self._local.interactive = is_slash_command(body) or is_block_actions(body) or is_shortcut(body)
        if self._local.interactive:
            context.ack()
        next()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queues work whose request is answered already; runs the rest (a modal submission) at once."""
        context: BoltContext | None = getattr(self._local, "context", None)
        ack = context.get("ack") if context is not None else None
        if isinstance(ack, Ack) and ack.response is not None:
            first = bool(getattr(self._local, "interactive", False))
            return self._after_ack.submit(functools.partial(fn, *args, **kwargs), first=first)
        return self._awaiting_ack.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shuts both pools down."""
        self._awaiting_ack.shutdown(wait, cancel_futures=cancel_futures)
        self._after_ack.shutdown(wait)


class _PriorityPool:
    """A fixed set of worker threads taking work from one queue, `first` work before the rest (FIFO within)."""

    def __init__(self, workers: int, *, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Future[Any] | None]] = (
            queue.PriorityQueue())
        self._order = itertools.count()
        self._workers = [threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True) for n in range(workers)]
        self._started = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T], *, first: bool) -> Future[T]:
        """Queues fn; its Future has the result."""
        future: Future[T] = Future()
        with self._lock:
            if not self._started:  # threads start with the first work, not when the app is built
                self._started = True
                for worker in self._workers:
                    worker.start()
        self._queue.put((0 if first else 1, next(self._order), fn, future))
        return future

    def shutdown(self, wait: bool = True) -> None:
        """Lets the queued work finish, then stops the workers."""
        for _ in self._workers:
            self._queue.put((2, next(self._order), None, None))
        if wait and self._started:
            for worker in self._workers:
                worker.join()

    def _work(self) -> None:
        while True:
            _, _, fn, future = self._queue.get()
            if fn is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the Future, as ThreadPoolExecutor does
                future.set_exception(exc)


def replay_into(app: App) -> Callable[[dict[str, Any]], None]:
    """Hands a kept event back to the app, as Socket Mode would deliver it (no HTTP signature to check)."""

    def dispatch(body: dict[str, Any]) -> None:
        app.dispatch(BoltRequest(body=body, mode="socket_mode", context={REPLAY: True}))

    return dispatch


def run_queued_into(app: App) -> Callable[[dict[str, Any]], bool]:
    """The worker process's dispatch: runs a queued request through the app; False when its listener failed."""

    def dispatch(body: dict[str, Any]) -> bool:
        # Verified and stored by the HTTP process: delivered as Socket Mode would, with no signature to check,
        # and marked as kept so that nothing stores it again.
        request = BoltRequest(body=body, mode="socket_mode", context={REPLAY: True})
        app.dispatch(request)
        return not request.context.get(FAILED)

    return dispatch
