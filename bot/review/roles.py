"""Who is a reviewer or an admin: user IDs from settings, user groups resolved through the API with a short cache."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings, WorkspaceRoles
from bot.review.lifecycle import Actor

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 60.0
# After a failed lookup, the next one waits this long: while Slack is down, a lookup costs the client's retries
# (seconds of Retry-After), and a click or an App Home render must not pay them again and again.
GROUP_FAILURE_PAUSE_SECONDS = 5.0


class RoleResolver:
    """Resolves an Actor for a user; group membership is cached briefly so a click costs no API call."""

    def __init__(self, settings: Settings, client_for: Callable[[str], WebClient],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._client_for = client_for
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._failed_at: dict[tuple[str, str], float] = {}
        self._global = WorkspaceRoles(reviewers=tuple(settings.secreview_reviewers),
                                      admins=tuple(settings.secreview_admins))
        self._per_workspace = settings.workspace_roles()

    def roles_of(self, workspace_id: str) -> WorkspaceRoles:
        """The workspace's own lists when SECREVIEW_CONFIG has them, else SECREVIEW_REVIEWERS and _ADMINS."""
        return self._per_workspace.get(workspace_id, self._global)

    def actor(self, user_id: str, *, workspace_id: str) -> Actor:
        """The user with their roles in this workspace."""
        roles = self.roles_of(workspace_id)
        is_admin = user_id in roles.admins
        is_reviewer = is_admin or user_id in roles.reviewer_users or any(
            user_id in self._group_members(group, workspace_id) for group in sorted(roles.reviewer_groups)
        )
        return Actor(user_id=user_id, is_reviewer=is_reviewer, is_admin=is_admin)

    def reviewer_ids(self, *, workspace_id: str) -> frozenset[str]:
        """Every reviewer and admin known now (user IDs, groups expanded)."""
        roles = self.roles_of(workspace_id)
        members: set[str] = set(roles.reviewer_users) | set(roles.admins)
        for group in roles.reviewer_groups:
            members |= self._group_members(group, workspace_id)
        return frozenset(members)

    def _group_members(self, group_id: str, workspace_id: str) -> frozenset[str]:
        key = (workspace_id, group_id)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached and now - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
            failed_at = self._failed_at.get(key)
            if failed_at is not None and now - failed_at < GROUP_FAILURE_PAUSE_SECONDS:
                return cached[1] if cached else frozenset()
        try:
            response = self._client_for(workspace_id).usergroups_users_list(usergroup=group_id)
            members = frozenset(response.get("users") or [])
        except (SlackApiError, OSError) as exc:
            # Keep the last known members rather than lock reviewers out during a Slack hiccup.
            log.warning("usergroups.users.list failed for %s: %s", group_id, exc)
            with self._lock:
                self._failed_at[key] = self._clock()
            return cached[1] if cached else frozenset()
        with self._lock:
            self._cache[key] = (now, members)
            self._failed_at.pop(key, None)
        return members
