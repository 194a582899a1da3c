"""Global middleware every secreview app runs, called directly (no keyword injection) on the acknowledgement path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from slack_bolt import BoltRequest
from slack_bolt.middleware import Middleware
from slack_bolt.request.payload_utils import is_slash_command
from slack_bolt.response import BoltResponse

from bot.slack.services import Services
from bot.slack.verification import WINDOW_SECONDS, excerpt
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


class DirectMiddleware(Middleware):
    """A global middleware that Bolt calls as it is, without building the keyword arguments a function
    middleware asks for: that cost ~40 µs per middleware per request (cProfile), on every acknowledgement.

    `step(req)` returns a response to answer with at once, or None to go on along the chain.
    """

    def __init__(self, step: Callable[[BoltRequest], BoltResponse | None]) -> None:
        self._step = step

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        answer = self._step(req)
        if answer is not None:
            return answer
        next()
        return resp

    @property
    def name(self) -> str:
        return f"{self._step.__module__}.{self._step.__name__}"


def inject_services(services: Services) -> Callable[[BoltRequest], BoltResponse | None]:
    """Puts the process's services into every request's context."""

    def inject(req: BoltRequest) -> None:
        req.context["services"] = services

    return inject


def refuse_other_workspaces(req: BoltRequest) -> BoltResponse | None:
    """With one bot token, a request for another workspace is acked and goes no further (nothing is stored).

    The token answers for its own workspace only (auth.test at start-up); a signed request naming another
    team_id would otherwise open a second workspace whose cards the same token posts in the same channels.
    """
    services: Services = req.context["services"]
    home = services.home_workspace
    if home is None:
        return None
    team = req.context.team_id
    if team == home:
        return None
    log.warning("refused a request for workspace %s: this installation serves only %s, the workspace of its bot "
                "token (install secreview with OAuth to serve several)", excerpt(str(team), 40), home)
    return BoltResponse(status=200, body="")


# What a person does in Slack (a command, a click, a modal submitted or closed, a shortcut): the requests a replay
# could repeat. Events carry an event_id and are kept to one run by it (drop_seen_deliveries, the inbox).
INTERACTIVE_TYPES = frozenset({"block_actions", "view_submission", "view_closed", "shortcut", "message_action"})
REPLAY_MARGIN_SECONDS = 60  # beyond Slack's window: clocks of replicas may differ a little


def drop_replays(req: BoltRequest) -> BoltResponse | None:
    """The same signed bytes of a command, click or submission, sent again within the window, are acked and dropped.

    The key is the signature, an HMAC of the timestamp and the body: it names exactly one delivery, and nobody
    without the signing secret can make another for the same body. Socket Mode deliveries have none and need
    none: they come over secreview's own connection, where nobody else can send.
    """
    body = req.body
    if req.mode == "socket_mode" or not isinstance(body, dict):
        return None
    if not (is_slash_command(body) or body.get("type") in INTERACTIVE_TYPES):
        return None
    services: Services = req.context["services"]
    signature = (req.headers.get("x-slack-signature") or [""])[0]
    timestamp = (req.headers.get("x-slack-request-timestamp") or [""])[0]
    if services.replays is None or not signature.startswith("v0=") or not timestamp.isascii() \
            or not timestamp.isdigit():
        return None
    expires_at = datetime.fromtimestamp(int(timestamp) + WINDOW_SECONDS + REPLAY_MARGIN_SECONDS, UTC)
    try:
        first = services.replays.first_delivery(f"sig:{signature[3:]}", expires_at=expires_at)
    except Exception:  # a safeguard: the request goes on, and tells its user if the database is away
        log.warning("could not record a request against replays; handling it", exc_info=True)
        return None
    if first:
        return None
    log.warning("dropped a replayed %s request (the same signed bytes were accepted before)",
                body.get("type") or "slash command")
    return BoltResponse(status=200, body="")


def drop_seen_deliveries(req: BoltRequest) -> BoltResponse | None:
    """An event Slack delivers again (retry, another replica) that we already handled is acked and dropped."""
    body = req.body
    event_id = body.get("event_id") if isinstance(body, dict) else None
    # This runs before the ack, so the database is asked only when a repeat is possible: Slack marks every
    # HTTP redelivery with X-Slack-Retry-Num. A first delivery skips the read; the listener's claim of the
    # event_id in its own transaction still keeps it to one review whatever arrives.
    if isinstance(event_id, str) and event_id and (req.mode == "socket_mode" or req.headers.get("x-slack-retry-num")):
        services: Services = req.context["services"]
        seen = services.read(lambda s: s.get(ProcessedEvent, event_id) is not None)
        if seen:
            log.info("dropping already-processed event %s", event_id)
            return BoltResponse(status=200, body="")
    return None
