"""Slack adapters: thin listeners that ack, parse the payload, call bot/, render and respond."""

from slack_bolt import App

from handlers import actions, commands, errors, events, modals


def register_all(app: App) -> None:
    """Binds every listener to the app (specific ones before the catch-alls)."""
    errors.register(app)
    events.register(app)
    commands.register(app)
    modals.register(app)
    actions.register(app)
