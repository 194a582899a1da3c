"""The floor for bench/ack.py: a bare Bolt app whose listeners only ack, on secreview's server stack.

Same WSGI adapter, same waitress settings and GIL switch interval as `secreview serve` (bot.run.http.serve_http),
same listener pool size and `process_before_response=False`, the same signed requests; nothing else. Its
listeners ack the standard Bolt way (a command's or a click's ack() is called on a listener thread).
Run by bench/ack.py: `python bench/bare_app.py --port P --threads T` with SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN
and SLACK_API_URL set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress.server import create_server

# The numbers serve_http uses (bot/run/http.py); kept literal so the floor imports nothing of secreview.
MAX_REQUEST_BYTES = 1_000_000
LISTENER_THREADS = 16  # secreview's default SECREVIEW_LISTENER_THREADS
SWITCH_INTERVAL_SECONDS = 0.0005  # serve_http sets the same GIL switch interval


def only_ack(ack: Ack) -> None:
    """Acknowledges and does nothing else."""
    ack()


def nothing() -> None:
    """An event listener: Bolt acks events itself before running it."""


def build(api_url: str, token: str, signing_secret: str, listener_threads: int) -> App:
    """A Bolt App that acks every event, command, click and submission."""
    app = App(
        token=token,
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url, timeout=10),
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=listener_threads, thread_name_prefix="bare-listener"),
        raise_error_for_unhandled_request=False,
    )
    app.event("message")(nothing)
    app.event(re.compile(".*"))(nothing)
    app.command(re.compile(".*"))(only_ack)
    app.action(re.compile(".*"))(only_ack)
    app.view(re.compile(".*"))(only_ack)
    return app


def wsgi(app: App) -> Callable[..., Iterable[bytes]]:
    """Slack's endpoint plus /healthz (so bench/ack.py can wait for it the same way)."""
    handler = SlackRequestHandler(app)

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return handler(environ, start_response)  # type: ignore[no-any-return]

    return serve


def main() -> None:
    """Serves the bare app until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    app = build(os.environ["SLACK_API_URL"], os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_SIGNING_SECRET"],
                int(os.environ.get("SECREVIEW_LISTENER_THREADS", LISTENER_THREADS)))
    server = create_server(wsgi(app), host=args.host, port=args.port, threads=args.threads,
                           max_request_body_size=MAX_REQUEST_BYTES, ident="bare", channel_timeout=30,
                           connection_limit=1000)
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    print(f"bare listening on http://{args.host}:{args.port}", flush=True)
    with contextlib.suppress(OSError):  # the socket closed under asyncore by server.close(): our exit path
        server.run()


if __name__ == "__main__":
    main()
