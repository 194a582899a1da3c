"""`secreview run`: Socket Mode, the default way to reach Slack (no public URL needed)."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from bot.config import Settings
from bot.run.assemble import SWITCH_INTERVAL_SECONDS, build_services, configure_logging, start_background, verify_token
from bot.run.claims import instance_id
from bot.slack.adapters import socket_mode_handler
from bot.slack.app import Listeners, build_app, replay_into

log = logging.getLogger(__name__)


def run_socket_mode(settings: Settings, *, listeners: Listeners, scheduler: bool = True) -> None:
    """Connects over Socket Mode and serves until interrupted."""
    configure_logging(settings)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    me = instance_id()
    home_workspace = verify_token(settings)
    services = build_services(settings, instance=me)
    services.home_workspace = home_workspace
    # Bolt keeps this answer: checked lazily, a rate-limited auth.test would make it drop the first events.
    app = build_app(settings, services, listeners=listeners, token_verification=True)
    stop_background = start_background(services, scheduler=scheduler, instance=me, replay=replay_into(app))
    handler = socket_mode_handler(app, settings)
    log.info("secreview %s connected in Socket Mode", me)
    try:
        handler.connect()
        stopped = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopped.set())
        stopped.wait()
    finally:
        log.info("shutting down")
        handler.close()
        stop_background()
