"""Characters that change how text looks without being seen, removed before user text reaches Slack.

Bidirectional embeddings, overrides and isolates reorder what follows them: "SR-5 \u202egnp.exe" shows as
"SR-5 exe.png". Zero-width characters and directional marks hide inside a word ("pay\u200broll" looks like
"payroll" but is another string), so a title or a name can pass for another one.
"""

from __future__ import annotations

# U+202A-U+202E (embeddings, overrides, pop) and U+2066-U+2069 (isolates): never needed in chat text, whose
# direction Slack sets per paragraph; removed from every text secreview stores.
DIRECTION_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Zero-width space, non-joiner and joiner, directional marks (LRM, RLM, Arabic letter mark), word joiner and the
# invisible operators, the byte-order mark used as a zero-width no-break space, the Mongolian vowel separator:
# removed from titles and names, where a reader compares what they see.
ZERO_WIDTH = frozenset(chr(c) for c in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, *range(0x2060, 0x2065),
                                        0xFEFF, 0x180E))

_DIRECTION_TABLE = dict.fromkeys(map(ord, DIRECTION_CONTROLS))
_NAME_TABLE = dict.fromkeys(map(ord, DIRECTION_CONTROLS | ZERO_WIDTH))


def without_invisible(text: str, *, zero_width: bool = True) -> str:
    """The text without direction controls, and (unless zero_width=False) without zero-width characters."""
    if text.isascii():
        return text
    return text.translate(_NAME_TABLE if zero_width else _DIRECTION_TABLE)
