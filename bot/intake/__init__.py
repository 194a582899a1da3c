"""Intake: reading an announcement and scoring the answers (pure functions, no database, no Slack)."""

from bot.intake.core import *  # noqa: F403
from bot.intake.core import _words  # noqa: F401
