"""SECREVIEW_CONFIG, the optional TOML file: intake rules and questionnaire, reviewers per workspace, closing days.

Every part of the file is checked when the settings are read, so a mistake stops start-up, never the first use.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot import intake
from bot.common.calendar import closing_days_from_config
from bot.config.wording import SettingsError, invalid, problem_line

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")


@dataclass(frozen=True)
class WorkspaceRoles:
    """One workspace's own reviewers and admins (SECREVIEW_CONFIG, [workspaces.<team id>]); they replace the
    global SECREVIEW_REVIEWERS and SECREVIEW_ADMINS for that workspace."""

    reviewers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()

    @property
    def reviewer_users(self) -> frozenset[str]:
        """Reviewers named by user ID."""
        return frozenset(i for i in self.reviewers if USER_ID.match(i))

    @property
    def reviewer_groups(self) -> frozenset[str]:
        """Reviewer user groups."""
        return frozenset(i for i in self.reviewers if USERGROUP_ID.match(i))


def workspace_roles_from_config(data: dict[str, Any]) -> dict[str, WorkspaceRoles]:
    """The [workspaces.<team id>] tables: `reviewers` (user or user-group IDs) and `admins` (user IDs)."""
    section = data.get("workspaces", {})
    if not isinstance(section, dict):
        raise invalid("workspaces_not_tables")
    roles: dict[str, WorkspaceRoles] = {}
    for team, table in section.items():
        if not TEAM_ID.match(team):
            raise invalid("workspace_id", team=team, quoted=repr(team))
        if not isinstance(table, dict):
            raise invalid("workspace_not_table", team=team)
        unknown = sorted(set(table) - {"reviewers", "admins"})
        if unknown:
            raise invalid("workspace_unknown", team=team, key=unknown[0])
        reviewers = _id_list(table.get("reviewers", []), f"workspaces.{team}.reviewers", (USER_ID, USERGROUP_ID),
                             "reviewer_id_item")
        admins = _id_list(table.get("admins", []), f"workspaces.{team}.admins", (USER_ID,), "user_id_item")
        roles[team] = WorkspaceRoles(reviewers=reviewers, admins=admins)
    return roles


def _id_list(value: object, key: str, patterns: tuple[re.Pattern[str], ...], wrong: str) -> tuple[str, ...]:
    # `wrong`: the [settings.invalid] sentence for an item that is not one of the IDs the patterns accept.
    if not isinstance(value, list):
        raise invalid("id_list", key=key)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not any(p.match(item) for p in patterns):
            raise invalid(wrong, key=key, index=i, quoted=repr(item))
    return tuple(value)


def read_config(path: Path) -> dict[str, Any]:
    """The parsed file; a ValueError says what is wrong with it (the caller names SECREVIEW_CONFIG)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise invalid("config_missing", path=repr(str(path))) from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid("config_not_toml", path=repr(str(path)), reason=exc) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise invalid("config_unreadable", path=repr(str(path)), reason=exc) from None


def read_rules(path: Path, *, languages: tuple[str, ...] = ("en",)) -> intake.IntakeRules:
    """The intake rules of the file, every other part of it checked too; a ValueError names what is wrong."""
    data = read_config(path)
    # Checked with the rest, so a bad [workspaces] or [calendar] table also stops start-up.
    workspace_roles_from_config(data)
    if "calendar" in data:
        closing_days_from_config(data["calendar"])
    try:
        return intake.rules_from_config(data, languages=languages)
    except ValueError as exc:
        # One line per mistake (a questionnaire reports all of its mistakes at once), each naming the file.
        lines = exc.lines if isinstance(exc, intake.QuestionnaireError) else [str(exc)]
        raise intake.QuestionnaireError([f"{path}: {line}" for line in lines]) from None


def load_rules_file(path: Path, *, languages: tuple[str, ...] = ("en",)) -> intake.IntakeRules:
    """Reads the TOML file of lists and weights; errors name SECREVIEW_CONFIG and the key."""
    try:
        return read_rules(path, languages=languages)
    except ValueError as exc:
        raise SettingsError(problem_line("secreview_config", str(exc))) from None


def load_closing_days(path: Path) -> tuple[date, ...]:
    """The company's closing days from the file's `[calendar]` table (none without one)."""
    try:
        data = read_config(path)
        return closing_days_from_config(data["calendar"]) if "calendar" in data else ()
    except ValueError as exc:
        raise SettingsError(problem_line("secreview_config", str(exc))) from None


