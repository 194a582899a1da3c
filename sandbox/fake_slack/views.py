"""The fake's stand-in for Slack's views: modals (views.open, .push, .update) and App Home (views.publish).

A modal is opened with a trigger id; `trigger_id(user)` mints one tied to a person, so the fake knows whose
modal it is. Views are checked as Slack checks them (type, titles, Block Kit rules, lengths).
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from sandbox.fake_slack.blocks import VIEW_BLOCK_LIMIT, text_object_errors, validate_blocks
from sandbox.fake_slack.state import ApiError, Workspace, invalid_arguments, web_api


class ViewsApi(Workspace):
    """Modals and App Home views, and the views.* methods."""

    def trigger_id(self, user_id: str) -> str:
        """Mint a trigger id tied to a user, so views opened with it are attributed to that user."""
        trigger = f"{int(self.clock() * 1000)}.{next(self._ids)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = user_id
        return trigger

    def views(self, user: str | None = None) -> list[dict[str, Any]]:
        """Return modal views (opened or pushed) in opening order, as they are now after updates."""
        with self._lock:
            return [
                copy.deepcopy(self._views[v])
                for v in self._modal_order
                if user is None or self._view_meta[v].get("user") == user
            ]

    def view(self, view_id: str) -> dict[str, Any] | None:
        """Return one view (modal or home) by id, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def home(self, user_id: str) -> dict[str, Any] | None:
        """Return the App Home view published for a user, or None."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def _parse_view(self, raw: Any, *, home: bool) -> dict[str, Any]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise invalid_arguments("failed to parse view [json-pointer:/view]") from None
        if not isinstance(raw, dict):
            raise invalid_arguments("missing required field: view")
        kind = raw.get("type")
        errors: list[str] = []
        if home and kind != "home":
            errors.append("must be home [json-pointer:/view/type]")
        if not home and kind != "modal":
            errors.append("must be modal [json-pointer:/view/type]")
        if kind == "modal":
            errors += [
                m[len("[ERROR] ") :]
                for m in text_object_errors(
                    raw.get("title"), 24, "/view/title", plain_only=True, required=True
                )
            ]
            for key in ("submit", "close"):
                errors += [
                    m[len("[ERROR] ") :]
                    for m in text_object_errors(raw.get(key), 24, f"/view/{key}", plain_only=True)
                ]
            has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in raw.get("blocks") or [])
            if has_input and not raw.get("submit"):
                errors.append(
                    "must provide submit when blocks contain input elements [json-pointer:/view/submit]"
                )
        errors += [
            m[len("[ERROR] ") :] for m in validate_blocks(raw.get("blocks"), VIEW_BLOCK_LIMIT, "/view/blocks")
        ]
        for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
            if len(str(raw.get(key) or "")) > limit:
                errors.append(f"must be less than {limit + 1} characters [json-pointer:/view/{key}]")
        if errors:
            raise invalid_arguments(*errors)
        return raw

    def _make_view(
        self, raw: dict[str, Any], view_id: str, previous: str | None, root: str | None
    ) -> dict[str, Any]:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": raw["type"],
            "blocks": raw.get("blocks", []),
            "private_metadata": raw.get("private_metadata", ""),
            "callback_id": raw.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_urlsafe(6)}",
            "title": raw.get("title"),
            "clear_on_close": bool(raw.get("clear_on_close", False)),
            "notify_on_close": bool(raw.get("notify_on_close", False)),
            "close": raw.get("close"),
            "submit": raw.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": raw.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _use_trigger(self, p: dict[str, Any]) -> tuple[str, str | None]:
        trigger = str(p.get("trigger_id") or "")
        if not trigger:
            raise invalid_arguments("missing required field: trigger_id")
        if self.strict_triggers:
            if trigger in self._used_triggers:
                raise ApiError("exchanged_trigger_id")
            self._used_triggers.add(trigger)
        return trigger, self._triggers.get(trigger)

    def _check_external_id(self, external_id: str, except_view: str | None = None) -> None:
        if external_id and any(
            v.get("external_id") == external_id and v["id"] != except_view for v in self._views.values()
        ):
            raise ApiError("duplicate_external_id")

    @web_api("views.open")
    def _views_open(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        trigger, user = self._use_trigger(p)
        raw = self._parse_view(p.get("view"), home=False)
        self._check_external_id(str(raw.get("external_id") or ""))
        view = self._make_view(raw, self._new_id("V"), None, None)
        self._views[view["id"]] = view
        self._modal_order.append(view["id"])
        self._view_meta[view["id"]] = {"user": user, "trigger_id": trigger, "opened_by": "views.open"}
        self._emit({"type": "view_opened", "view_id": view["id"], "user": user})
        return {"ok": True, "view": copy.deepcopy(view)}

    @web_api("views.push")
    def _views_push(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        trigger, user = self._use_trigger(p)
        raw = self._parse_view(p.get("view"), home=False)
        self._check_external_id(str(raw.get("external_id") or ""))
        # Slack knows which modal the trigger came from; the fake stacks onto the latest modal of that user.
        candidates = [v for v in self._modal_order if user is None or self._view_meta[v].get("user") == user]
        previous = candidates[-1] if candidates else None
        root = self._views[previous]["root_view_id"] if previous else None
        if root is not None and sum(1 for v in self._views.values() if v.get("root_view_id") == root) >= 3:
            raise ApiError("push_limit_reached")
        view = self._make_view(raw, self._new_id("V"), previous, root)
        self._views[view["id"]] = view
        self._modal_order.append(view["id"])
        self._view_meta[view["id"]] = {"user": user, "trigger_id": trigger, "opened_by": "views.push"}
        self._emit({"type": "view_pushed", "view_id": view["id"], "user": user})
        return {"ok": True, "view": copy.deepcopy(view)}

    @web_api("views.update")
    def _views_update(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        view_id, external_id = p.get("view_id"), p.get("external_id")
        if not view_id and not external_id:
            raise invalid_arguments("missing required field: view_id or external_id")
        current = self._views.get(str(view_id)) if view_id else None
        if current is None and external_id:
            current = next((v for v in self._views.values() if v.get("external_id") == external_id), None)
        if current is None:
            raise ApiError("not_found")
        if p.get("hash") and p["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        raw = self._parse_view(p.get("view"), home=current["type"] == "home")
        self._check_external_id(str(raw.get("external_id") or ""), except_view=current["id"])
        updated = self._make_view(raw, current["id"], current["previous_view_id"], current["root_view_id"])
        updated["state"] = current["state"]
        self._views[current["id"]] = updated
        self._emit({"type": "view_updated", "view_id": current["id"]})
        return {"ok": True, "view": copy.deepcopy(updated)}

    @web_api("views.publish")
    def _views_publish(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(p.get("user_id") or "")
        if user not in self._users:
            raise ApiError("user_not_found")
        raw = self._parse_view(p.get("view"), home=True)
        existing_id = self._homes.get(user)
        if existing_id and p.get("hash") and p["hash"] != self._views[existing_id]["hash"]:
            raise ApiError("hash_conflict")
        view = self._make_view(raw, existing_id or self._new_id("V"), None, None)
        self._views[view["id"]] = view
        self._homes[user] = view["id"]
        self._view_meta[view["id"]] = {"user": user, "trigger_id": None, "opened_by": "views.publish"}
        self._emit({"type": "home_published", "user": user, "view_id": view["id"]})
        return {"ok": True, "view": copy.deepcopy(view)}
