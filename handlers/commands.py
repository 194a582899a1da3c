"""`/secreview`: ack at once, parse, call bot/, answer ephemerally."""

from __future__ import annotations

import logging
import socket
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.common import render
from bot.figures import digest, export, periods, reports
from bot.review import intake_answers, lifecycle, safeguards, transitions
from bot.review.errors import AlreadyYours, DomainError, NotAllowed, TakenBySomeoneElse
from bot.review.states import DECIDED_STATES, OPEN_STATES
from bot.slack import answers, commands, views
from bot.slack.commands import ParsedCommand, Sub
from handlers.common import actor_of, say_ephemeral, say_sentence, services_of, workspace_of
from handlers.intake import open_intake_modal
from handlers.modals import open_ask_info_modal, open_decision_modal
from storage.models import AuditEvent, Review, utcnow

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20


def secreview_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient,
                      context: BoltContext) -> None:
    """Handles every /secreview subcommand; refusals and bad input get a short ephemeral answer."""
    ack()
    user_id = str(command.get("user_id") or "")
    try:
        parsed = commands.parse(command.get("text") if isinstance(command.get("text"), str) else "")
        run_subcommand(parsed, user_id=user_id, command=command, respond=respond, client=client, context=context)
    except DomainError as exc:
        say_sentence(respond, exc.user_message)


def run_subcommand(parsed: ParsedCommand, *, user_id: str, command: dict[str, Any], respond: Respond,
                   client: WebClient, context: BoltContext) -> None:
    """Carries out one parsed subcommand for this user."""
    services_of(context)
    workspace_id = workspace_of(context, command)
    actor = actor_of(context, user_id, command)
    trigger_id = command.get("trigger_id")
    sub = parsed.sub

    if sub is Sub.HELP:
        return say_ephemeral(respond, answers.help_message())
    if sub is Sub.NEW:
        return open_intake_modal(client=client, context=context, trigger_id=trigger_id, review=None, actor=actor,
                                 title=parsed.text, body=command)
    if sub is Sub.LIST:
        return say_ephemeral(respond, list_page(context=context, user_id=user_id, body=command,
                                                filter_name=parsed.option or "open", page=1))
    if sub is Sub.SHOW:
        return say_ephemeral(respond, show_review(context=context, workspace_id=workspace_id, key=parsed.key or 0))
    if sub is Sub.DECIDE:
        return open_decision_modal(client=client, context=context, trigger_id=trigger_id, key=parsed.key or 0,
                                   actor=actor, workspace_id=workspace_id)
    if sub is Sub.ROADMAP:
        return say_ephemeral(respond, roadmap(context=context, workspace_id=workspace_id, weeks=parsed.number or 8))
    if sub is Sub.METRICS:
        return say_ephemeral(respond, metrics_answer(context=context, workspace_id=workspace_id,
                                                     period=parsed.option or "week"))
    if sub is Sub.DIGEST:
        return digest_command(parsed, actor=actor, workspace_id=workspace_id, respond=respond, context=context)
    if sub is Sub.EXPORT:
        return export_command(parsed, actor=actor, workspace_id=workspace_id, respond=respond, client=client,
                              context=context)
    if sub is Sub.INFO and not parsed.text:
        return open_ask_info_modal(client=client, context=context, trigger_id=trigger_id, key=parsed.key or 0,
                                   actor=actor, workspace_id=workspace_id)
    try:
        confirmation = change_command(parsed, actor=actor, workspace_id=workspace_id, context=context)
    except (AlreadyYours, TakenBySomeoneElse) as exc:
        return say_ephemeral(respond, take_answer(exc))
    say_sentence(respond, confirmation)
    return None


def take_answer(exc: AlreadyYours | TakenBySomeoneElse) -> dict[str, Any]:
    """A take that changed nothing: release it (yours already), or take it over (someone else's), to confirm."""
    assignee = exc.params.get("assignee") if isinstance(exc, TakenBySomeoneElse) else None
    return answers.take_prompt(sentence=exc.user_message, key=str(exc.params["key"]), assignee=assignee)


def change_command(parsed: ParsedCommand, *, actor: lifecycle.Actor, workspace_id: str,
                   context: BoltContext) -> str:
    """The subcommands that change a review: one transaction each; returns the confirmation sentence."""
    services = services_of(context)
    settings = services.settings
    sub, key = parsed.sub, parsed.key or 0
    common: dict[str, Any] = {"settings": settings, "workspace_id": workspace_id, "actor": actor}

    if sub is Sub.TAKE:
        review = services.write(lambda s: transitions.take(s, key=key, **common))
        return render.message("done.taken", key=review.key)
    if sub is Sub.RELEASE:
        review = services.write(lambda s: transitions.release(s, key=key, **common))
        return render.message("done.released", key=review.key)
    if sub is Sub.ASSIGN:
        assert parsed.user_id is not None and services.roles is not None
        target = services.roles.actor(parsed.user_id, workspace_id=workspace_id)
        review = services.write(lambda s: transitions.assign(s, key=key, assignee_id=parsed.user_id or "",
                                                             assignee_is_reviewer=target.may_review, **common))
        return render.message("done.assigned", key=review.key, user=parsed.user_id)
    if sub is Sub.INFO:
        review = services.write(lambda s: transitions.request_info(s, key=key, question=parsed.text, **common))
        return render.message("done.info_requested", key=review.key, owner=review.owner_id)
    if sub is Sub.WITHDRAW:
        review = services.write(lambda s: transitions.withdraw(s, key=key, reason=parsed.text, **common))
        return render.message("done.withdrawn", key=review.key)
    if sub is Sub.REOPEN:
        review = services.write(lambda s: transitions.reopen(s, key=key, reason=parsed.text, **common))
        return render.message("done.reopened", key=review.key)
    if sub is Sub.DONE:
        condition = services.write(lambda s: safeguards.complete_condition(s, condition_id=parsed.number or 0,
                                                                           **common))
        return render.message("done.condition_done", id=condition.id)
    if sub is Sub.WAIVE:
        condition = services.write(lambda s: safeguards.waive_condition(s, condition_id=parsed.number or 0,
                                                                        reason=parsed.text, **common))
        return render.message("done.condition_waived", id=condition.id)
    raise AssertionError(f"unhandled subcommand {sub}")


def list_page(*, context: BoltContext, user_id: str, body: dict[str, Any], filter_name: str,
              page: int) -> dict[str, Any]:
    """One page of `/secreview list`, newest first, scoped to this workspace."""
    services = services_of(context)
    workspace_id = workspace_of(context, body)
    now = utcnow()
    page = max(1, page)

    def load(session: Session) -> dict[str, Any]:
        query = select(Review).where(Review.workspace_id == workspace_id)
        if filter_name == "open":
            query = query.where(Review.state.in_(list(OPEN_STATES)))
        elif filter_name == "mine":
            query = query.where((Review.owner_id == user_id) | (Review.announcer_id == user_id)
                                | (Review.assignee_id == user_id))
        elif filter_name == "overdue":
            query = query.where(Review.state.in_(list(OPEN_STATES)), Review.due_at < now)
        elif filter_name == "decided":
            query = query.where(Review.state.in_(list(DECIDED_STATES)))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        reviews = list(session.scalars(
            query.order_by(Review.announced_at.desc(), Review.id.desc())
            .offset((page - 1) * LIST_PAGE_SIZE).limit(LIST_PAGE_SIZE)
        ))
        return views.review_list(reviews=reviews, filter_name=filter_name, page=page, page_size=LIST_PAGE_SIZE,
                                 total=total, now=now)

    return services.read(load)


def show_review(*, context: BoltContext, workspace_id: str, key: int) -> dict[str, Any]:
    """`/secreview show SR-12`: the review with its history."""
    services = services_of(context)

    def load(session: Session) -> dict[str, Any]:
        review = lifecycle.get_review(session, workspace_id=workspace_id, key=key)
        session.refresh(review)
        events = list(session.scalars(
            select(AuditEvent).where(AuditEvent.workspace_id == workspace_id, AuditEvent.review_id == review.id)
            .order_by(AuditEvent.seq)
        ))
        # The answers as the questionnaire they were given to worded them (legacy reviews: the shipped one).
        questionnaire = intake_answers.questionnaire_of(session, review)
        return views.review_detail(review=review, events=events, now=utcnow(), questionnaire=questionnaire)

    return services.read(load)


def roadmap(*, context: BoltContext, workspace_id: str, weeks: int) -> dict[str, Any]:
    """Upcoming go-lives within `weeks` weeks with their review status."""
    services = services_of(context)
    now = utcnow()
    today = now.astimezone(services.settings.timezone).date()
    until: date = today + timedelta(weeks=weeks)

    def load(session: Session) -> dict[str, Any]:
        reviews = list(session.scalars(
            select(Review).where(Review.workspace_id == workspace_id, Review.go_live >= today,
                                 Review.go_live <= until, Review.state.not_in(["withdrawn", "not_applicable"]))
            .order_by(Review.go_live, Review.number).limit(200)
            .options(selectinload(Review.conditions))
        ))
        return views.roadmap(reviews=reviews, weeks=weeks, now=now)

    return services.read(load)


def metrics_answer(*, context: BoltContext, workspace_id: str, period: str) -> dict[str, Any]:
    """`/secreview metrics [week|month|quarter]`: the digest's figures for the last complete period."""
    services = services_of(context)
    settings = services.settings
    now = utcnow()

    def load(session: Session) -> dict[str, Any]:
        window = periods.period_for(period, now=now, tz=settings.timezone, which="last")
        report = reports.compute(session, workspace_id=workspace_id, period=window, now=now, tz=settings.timezone,
                                 currency=settings.secreview_currency, calendar=settings.calendar)
        return digest.render_metrics_ephemeral(report, style=digest.style_of(settings))

    return services.read(load)


def digest_command(parsed: ParsedCommand, *, actor: lifecycle.Actor, workspace_id: str, respond: Respond,
                   context: BoltContext) -> None:
    """`/secreview digest preview` for anyone, `post` for admins (once per period)."""
    services = services_of(context)
    settings = services.settings
    if parsed.option == "post":
        if not actor.is_admin:
            raise NotAllowed("refused.admin_only", action="post the digest now")
        if not settings.secreview_digest_channel:
            return say_sentence(respond, render.message("digest.no_channel"))
        run = services.write(lambda s: digest.post_digest(
            s, settings=settings, workspace_id=workspace_id, trigger="manual",
            claimed_by=f"slack:{actor.user_id}@{socket.gethostname()}"))
        if run is None:
            return say_sentence(respond, render.message("digest.already_posted"))
        return say_sentence(respond, render.message("digest.posted", channel=settings.secreview_digest_channel))
    preview = services.read(lambda s: digest.preview(s, settings=settings, workspace_id=workspace_id))
    return say_ephemeral(respond, preview)


def export_command(parsed: ParsedCommand, *, actor: lifecycle.Actor, workspace_id: str, respond: Respond,
                   client: WebClient, context: BoltContext) -> None:
    """`/secreview export [csv|json]`: every review of this workspace as a file in a DM (reviewers)."""
    if not actor.may_review:
        raise NotAllowed("refused.reviewer_only", action="export reviews")
    services = services_of(context)
    fmt = parsed.option or "csv"

    def build(session: Session) -> str:
        rows = export.iter_reviews(session, workspace_id=workspace_id)
        return export.to_json(rows) if fmt == "json" else export.to_csv(rows)

    content = services.read(build)
    dm = client.conversations_open(users=actor.user_id)
    channel = dm["channel"]["id"]
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    client.files_upload_v2(channel=channel, content=content.encode("utf-8"), filename=f"secreview-{stamp}.{fmt}",
                           title=render.message("export.title", stamp=stamp),
                           initial_comment=render.message("export.comment"))
    say_sentence(respond, render.message("export.sent"))


def register(app: App) -> None:
    """Binds /secreview."""
    app.command("/secreview")(secreview_command)
