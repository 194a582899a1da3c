"""Slack adapters: thin listeners that ack, parse the payload, call bot/, render and respond.

May import bot.slack and the rooms below it (bot.figures, bot.review, bot.intake, bot.common) and storage;
never bot.run. The entry points hand `LISTENERS` to bot.slack.app.build_app.
"""

from slack_bolt import App

from bot.slack.app import Listeners
from handlers import actions, commands, errors, events, handoff, intake, modals, shortcuts, workflow


def register_all(app: App) -> None:
    """Binds every listener to the app (specific ones before the catch-alls)."""
    errors.register(app)
    events.register(app)
    workflow.register(app)
    commands.register(app)
    shortcuts.register(app)
    intake.register(app)
    modals.register(app)
    actions.register(app)


LISTENERS = Listeners(register=register_all, register_handoff=handoff.register)
