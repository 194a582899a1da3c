"""The rich_text block Slack's clients attach to a message a person types (mentions, links, text)."""

from __future__ import annotations

import re
from typing import Any

from sandbox.payloads.ids import new_block_id

_TOKEN = re.compile(r"<([@#!][^>|]*|https?://[^>|]+|mailto:[^>|]+)(?:\|([^>]*))?>")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def rich_text_blocks(text: str, block_id: str | None = None) -> list[dict[str, Any]]:
    """Return the rich_text block Slack's clients attach to a typed message (mentions, links, text)."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": _unescape(text[position : match.start()])})
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        elif target.startswith("!subteam^"):
            elements.append({"type": "usergroup", "usergroup_id": target[len("!subteam^") :]})
        elif target.startswith("!"):
            elements.append({"type": "broadcast", "range": target[1:]})
        else:
            link: dict[str, Any] = {"type": "link", "url": target}
            if label:
                link["text"] = _unescape(label)
            elements.append(link)
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": _unescape(text[position:])})
    return [
        {
            "type": "rich_text",
            "block_id": block_id or new_block_id(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]
