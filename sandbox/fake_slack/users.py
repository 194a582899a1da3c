"""The fake's stand-in for Slack's people: users.* and usergroups.* (the directory an app looks people up in).

Tests and the sandbox register members with `add_user` and user groups ("S…") with `add_usergroup`; the
Web API answers users.info, users.list, users.lookupByEmail, usergroups.list and usergroups.users.list.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from sandbox.fake_slack.state import ApiError, Workspace, as_bool, paginate, tz_fields, web_api


class UsersApi(Workspace):
    """Workspace members and user groups, and the users.* / usergroups.* methods that read them."""

    def add_user(
        self,
        user_id: str,
        real_name: str,
        *,
        name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        email: str | None = None,
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Register (or replace) a workspace member; return the users.info `user` object."""
        if user_id[:1] not in ("U", "W"):
            raise ValueError(f"user ids start with U or W: {user_id!r}")
        handle = name or re.sub(r"[^a-z0-9._-]", ".", real_name.lower())
        display = real_name if display_name is None else display_name
        first, _, last = real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display,
            "display_name_normalized": display,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "",
            "first_name": first,
            "last_name": last,
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            **tz_fields(tz),
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
            "is_email_confirmed": email is not None,
            "who_can_share_contact_card": "EVERYONE",
        }
        with self._lock:
            self._users[user_id] = user
            self._emit({"type": "user_added", "user": user_id})
        self._flush()
        return copy.deepcopy(user)

    def add_usergroup(
        self, usergroup_id: str, users: Iterable[str], *, handle: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Register (or replace) a user group ("S…") and its members."""
        if not usergroup_id.startswith("S"):
            raise ValueError(f"user group ids start with S: {usergroup_id!r}")
        now = int(self.clock())
        group = {
            "id": usergroup_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name or usergroup_id,
            "description": "",
            "handle": handle or usergroup_id.lower(),
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": list(users),
        }
        group["user_count"] = len(group["users"])
        with self._lock:
            self._usergroups[usergroup_id] = group
            self._emit({"type": "usergroup_set", "usergroup": usergroup_id})
        self._flush()
        return copy.deepcopy(group)

    def users(self) -> list[dict[str, Any]]:
        """Return the users directory (users.info objects)."""
        with self._lock:
            return [copy.deepcopy(u) for u in self._users.values()]

    @web_api("users.info")
    def _users_info(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        user = self._users.get(str(p.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        result = copy.deepcopy(user)
        if as_bool(p.get("include_locale")):
            result["locale"] = "en-US"
        return {"ok": True, "user": result}

    @web_api("users.list")
    def _users_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        page, cursor = paginate([copy.deepcopy(u) for u in self._users.values()], p, default_limit=200)
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(self.clock()),
            "response_metadata": {"next_cursor": cursor},
        }

    @web_api("users.lookupByEmail")
    def _users_lookup_by_email(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        email = str(p.get("email") or "").lower()
        for user in self._users.values():
            if str(user["profile"].get("email", "")).lower() == email and email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise ApiError("users_not_found")

    @web_api("usergroups.list")
    def _usergroups_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        include_users = as_bool(p.get("include_users"))
        groups = []
        for group in self._usergroups.values():
            item = copy.deepcopy(group)
            if not include_users:
                item.pop("users")
            groups.append(item)
        return {"ok": True, "usergroups": groups}

    @web_api("usergroups.users.list")
    def _usergroups_users_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        group = self._usergroups.get(str(p.get("usergroup") or ""))
        if group is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(group["users"])}
