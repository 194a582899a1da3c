"""Settings: the one place that reads the environment (and `.env`, and the optional TOML file SECREVIEW_CONFIG).

- settings: the Settings class (every variable, validated once at start-up) and load_settings().
- wording: how a bad setting is told, one line each, in secreview's words.
- files: the TOML file: intake rules and questionnaire, reviewers per workspace, closing days.
- jira: the Jira settings (optional; nothing changes without them).

May import: bot.intake, bot.common and the standard library, pydantic and SQLAlchemy's URL parser; nothing that
runs (no bot.review, bot.slack, bot.run, storage).
"""

from bot.config.files import CHANNEL_ID, USER_ID, USERGROUP_ID, WorkspaceRoles, load_rules_file
from bot.config.settings import MODE_SETTINGS, Settings, load_settings, parse_cpu_list
from bot.config.wording import SettingsError, problem_line, safe_database_url, setting_hint

__all__ = [
    "CHANNEL_ID",
    "MODE_SETTINGS",
    "USERGROUP_ID",
    "USER_ID",
    "Settings",
    "SettingsError",
    "WorkspaceRoles",
    "load_rules_file",
    "load_settings",
    "parse_cpu_list",
    "problem_line",
    "safe_database_url",
    "setting_hint",
]
