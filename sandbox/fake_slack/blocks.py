"""Block Kit as Slack checks it: the rules the fake enforces on blocks of messages and views.

Slack refuses bad blocks with `invalid_blocks` and JSON-pointer messages; the fake does the same for the
rules an app is most likely to break (limits on counts and text lengths, duplicate ids, missing fields).
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100


def validate_blocks(blocks: Any, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error messages for Block Kit rules the fake enforces (empty if acceptable)."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_block_ids:
                errors.append(f"[ERROR] duplicate block_id: {block_id} [json-pointer:{where}/block_id]")
            seen_block_ids.add(block_id)
            if len(str(block_id)) > 255:
                errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/block_id]")
        kind = block["type"]
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{where}]")
            errors += text_object_errors(text, 3000, f"{where}/text")
            for j, item in enumerate(fields or []):
                errors += text_object_errors(item, 2000, f"{where}/fields/{j}")
            if fields and len(fields) > 10:
                errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]")
            if isinstance(block.get("accessory"), dict):
                errors += _element_errors(block["accessory"], f"{where}/accessory")
        elif kind == "header":
            errors += text_object_errors(
                block.get("text"), 150, f"{where}/text", plain_only=True, required=True
            )
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                errors.append(f"[ERROR] must have 1 to 25 items [json-pointer:{where}/elements]")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                errors.append(f"[ERROR] duplicate action_id [json-pointer:{where}/elements]")
            for j, element in enumerate(elements):
                errors += _element_errors(element, f"{where}/elements/{j}")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                errors.append(f"[ERROR] must have 1 to 10 items [json-pointer:{where}/elements]")
        elif kind == "input":
            errors += text_object_errors(
                block.get("label"), 2000, f"{where}/label", plain_only=True, required=True
            )
            if not isinstance(block.get("element"), dict):
                errors.append(f"[ERROR] missing required field: element [json-pointer:{where}]")
    return errors


def text_object_errors(
    obj: Any, limit: int, where: str, *, plain_only: bool = False, required: bool = False
) -> list[str]:
    """Return Slack-style error messages for a text object (type, emptiness, length) at `where`."""
    if obj is None:
        return [f"[ERROR] missing required field: text [json-pointer:{where}]"] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"[ERROR] must be a text object [json-pointer:{where}/type]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"[ERROR] must be plain_text [json-pointer:{where}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _element_errors(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"[ERROR] missing required field: type [json-pointer:{where}]"]
    errors: list[str] = []
    if element["type"] == "button":
        errors += text_object_errors(
            element.get("text"), 75, f"{where}/text", plain_only=True, required=True
        )
        if len(str(element.get("value", ""))) > 2000:
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{where}/value]")
        if len(str(element.get("url", ""))) > 3000:
            errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{where}/url]")
    if len(str(element.get("action_id", ""))) > 255:
        errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/action_id]")
    return errors
