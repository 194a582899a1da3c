"""Answers shown only to the person who asked: `/secreview help` (made from the parser's own table) and the prompt
after a "Take" that changed nothing."""

from __future__ import annotations

from typing import Any

from bot.common import render
from bot.common.ids import ActionId, BlockId, CallbackId
from bot.slack.commands import AUDIENCES, COMMANDS


def help_message() -> dict[str, Any]:
    """Usage of /secreview: every subcommand of the parser's table, by audience, with examples."""
    groups = [{"audience": audience, "commands": [c for c in COMMANDS if c.audience == audience]}
              for audience in AUDIENCES]
    return render.render_json("help", groups=[g for g in groups if g["commands"]], message=render.message)


def take_prompt(*, sentence: str, key: str, assignee: str | None) -> dict[str, Any]:
    """"You already have SR-12" with a Release button, or "SR-12 is with @hugo" with a confirmed Take over."""
    return render.render_json("take_prompt", sentence=sentence, key=key, assignee=assignee,
                              ids={"action": ActionId, "block": BlockId, "callback": CallbackId})
