"""Bolt's adapters for the ways Slack reaches secreview: Socket Mode, WSGI (HTTP mode) and OAuth installs."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.config import Settings
from bot.slack.client import make_client


def socket_mode_handler(app: App, settings: Settings) -> Any:
    """Bolt's Socket Mode handler for the app, on the app-level token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token=settings.slack_app_token,
                             web_client=make_client(settings, settings.slack_app_token))


def wsgi_handler(app: App) -> Any:
    """Bolt's WSGI request handler for the app (HTTP mode)."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    return SlackRequestHandler(app)


def oauth(settings: Settings, engine: Any) -> tuple[Any, Any]:
    """Bolt's OAuth settings on secreview's database: /slack/install and /slack/oauth_redirect."""
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    from bot.slack.manifest import build_manifest  # the scopes asked for are the manifest's

    installation_store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    state_store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    scopes = build_manifest()["oauth_config"]["scopes"]["bot"]
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, scopes=scopes,
        installation_store=installation_store, state_store=state_store,
        install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect",
    )
    return oauth_settings, installation_store
