"""Intake: reading an announcement and scoring the answers (pure functions, no database, no Slack)."""

from bot.intake.date_grammar import *  # noqa: F403
from bot.intake.date_grammar import _words  # noqa: F401
