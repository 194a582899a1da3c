"""Domain errors that carry a message fit for the user, rendered from templates/messages.toml."""

from __future__ import annotations

from typing import Any

from bot.common import render


class DomainError(Exception):
    """A refusal the user should read; `key` names its sentence in templates/messages.toml."""

    def __init__(self, message_key: str, /, **params: Any) -> None:
        self.key = message_key
        self.params = params
        super().__init__(f"{message_key}: {params}")

    @property
    def user_message(self) -> str:
        """The sentence for Slack (mrkdwn, user values escaped)."""
        return render.message(self.key, **self.params)

    @property
    def plain_message(self) -> str:
        """The sentence for plain-text surfaces: modal field errors, the command line."""
        return render.raw_message(self.key, **self.params)


class NotAllowed(DomainError):
    """The actor's role does not permit this action; nothing was recorded."""


class NotFound(DomainError):
    """No such review (in this workspace)."""


class InvalidTransition(DomainError):
    """The review's state does not allow this action."""


class InvalidInput(DomainError):
    """An argument or a form field is malformed; `field` names the form field when there is one."""

    def __init__(self, message_key: str, /, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message_key, **params)
        self.field = field


class AlreadyYours(InvalidTransition):
    """The reviewer already has the review: nothing changes, and they can release it instead."""


class TakenBySomeoneElse(InvalidTransition):
    """Another reviewer has the review: taking it over needs a confirmation (`assignee` names them)."""
