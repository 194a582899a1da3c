"""make_title(): the project's name, from the first meaningful line of an announcement (see project_names.py)."""

import re

from bot.intake.project_names import TITLE_LENGTH, capitalised, project_name, shortened, unmark_label
from bot.intake.rules import TITLE_MAX
from bot.intake.text import _EMOJI_RE, _SLACK_TAG_RE, _unescape

# *bold*, _italic_, ~strike~: the marker comes first in the pattern so that the engine can jump to it.
_FORMAT_RES = tuple(
    (c, re.compile(rf"\{c}(?<![\w{c}]\{c})(?=\S)([^{c}\n]+?)(?<=\S)\{c}(?![\w{c}])")) for c in "*_~"
)
# Quote markers, bullets and list numbers in front of a line.
_LIST_MARK_RE = re.compile(
    r"\s*(?:(?:>|&gt;)\s*)*(?:[-*\u2022\u25e6\u25aa\u2023\u00b7\u2013\u2014]\s+|\d{1,2}[.)]\s+)?"
)
# A greeting or a label in front of the news ("Hi team,", "*Heads-up:*", ":wave: Hello all!"), matched on
# the raw line, so it tolerates emoji, formatting markers and mentions.
_GREETING_RE = re.compile(
    r"(?::[a-z0-9_+'-]+:\s*)*[*_~]*"
    r"(?:(?:hi|hello|hey|hiya|dear|morning|good\s+(?:morning|afternoon|evening)|greetings)"
    r"(?:\s+(?:all|team|everyone|everybody|folks|friends|there|people|y'all|@[\w.-]+|#[\w.-]+|<[^<>]*>))*"
    r"|heads[\s-]?up|fyi|psa|update|announcement|news|big\s+news|exciting\s+news|good\s+news)"
    r"[*_~]*(?:(?:\s*:[a-z0-9_+'-]+:)+\s*|\s*[,!.:;\u2013\u2014-]+[*_~]*(?:\s*:[a-z0-9_+'-]+:)*\s*|\s*$)",
    re.IGNORECASE,
)
# First characters that can start a list mark or a greeting: most lines start with neither.
_LIST_MARK_STARTS = frozenset(" \t>&-*\u2022\u25e6\u25aa\u2023\u00b7\u2013\u2014" + "0123456789") | {""}
_GREETING_STARTS = frozenset(":*_~hHgGdDmMfFpPuUaAnNbBeE")
_SENTENCE_END_RE = re.compile(r"[.!?][.!?]*(?=\s|$)")  # a leading character class lets the engine skip ahead
# A period after these ends no sentence ("e.g. Salesforce"); after the others only when a capital follows
# ("Go-live 15 Jan. 2027" goes on, "... with Acme Inc. Go-live ..." does not).
_NEVER_LAST = frozenset({"e.g", "i.e", "eg", "ie", "cf", "vs", "approx", "incl", "dr", "mr", "mrs", "ms"})
_ABBREVIATIONS = _NEVER_LAST | frozenset(
    {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "st", "inc",
     "ltd", "co", "corp", "etc"}
)
_ALNUM_RE = re.compile(r"[^\W_]")
_SPACED_MARKS = tuple((f" {mark}", mark) for mark in ",.;:!?)")
_TITLE_SCAN = 600  # characters of a line looked at: enough for a 150-character title after markup is gone


def _tag_for_title(m: re.Match[str]) -> str:
    """Renders a Slack tag the way Slack shows it, minus bare user and channel IDs."""
    target, label = m.group(1), m.group(2)
    if target.startswith("@"):
        return f"@{label}" if label else ""
    if target.startswith("#"):
        return f"#{label}" if label else ""
    if target.startswith("!"):
        return label if label and target.startswith(("!date", "!subteam")) else ""
    return label if label else target.removeprefix("mailto:")


def _clean_line(line: str) -> str:
    """A piece of a line as plain text, the way a reader sees it."""
    had_tags = "<" in line
    if had_tags:
        line = _SLACK_TAG_RE.sub(_tag_for_title, line)
    if "&" in line:
        line = _unescape(line)
    if ":" in line:
        line = _EMOJI_RE.sub("", line)
    if "*" in line or "_" in line or "~" in line:
        for char, pattern in _FORMAT_RES:
            if char in line:
                line = pattern.sub(r"\1", line)
    if "`" in line:
        line = line.replace("`", "")
    line = " ".join(line.split())
    if had_tags:  # "Thanks <@U1>, ..." leaves "Thanks ,"
        for spaced, mark in _SPACED_MARKS:
            if spaced in line:
                line = line.replace(spaced, mark)
    return line


def _first_sentences(line: str) -> str:
    """The first sentence of a raw line, extended while shorter than four words; never cut inside a <tag>."""
    if "." not in line and "!" not in line and "?" not in line:
        return line
    for m in _SENTENCE_END_RE.finditer(line):
        end = m.start()
        if line.count(" ", 0, end) < 3:  # fewer than four words so far
            continue
        if m.group() == ".":
            word = line[line.rfind(" ", 0, end) + 1 : end].lower()
            if word in _ABBREVIATIONS and (word in _NEVER_LAST or not line[m.end() :].lstrip()[:1].isupper()):
                continue
        if line.rfind("<", 0, end) > line.rfind(">", 0, end):
            continue  # inside a link or mention
        return line[: m.end()]
    return line


def _shorten(text: str, limit: int = TITLE_MAX) -> str:
    """Cuts on a word boundary and marks the cut with an ellipsis, within limit characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "…"


def make_title(text: str) -> str:
    """A short title from the first meaningful line of a message; "" when the message has no words."""
    for raw_line in text.splitlines():
        line = raw_line[:_TITLE_SCAN]
        cut = line.rfind("<")
        if cut > line.rfind(">"):
            line = line[:cut]  # do not keep half a link
        if line[:1] in _LIST_MARK_STARTS:
            mark = _LIST_MARK_RE.match(line)
            if mark is not None and mark.end():
                line = line[mark.end() :]
        greeting = _GREETING_RE.match(line) if line[:1] in _GREETING_STARTS else None
        if greeting is not None:
            line = line[greeting.end() :]
        # Only the first sentence is cleaned of markup: the rest of a long message costs nothing.
        title = _clean_line(_first_sentences(unmark_label(line))).rstrip(" \t.,;:!-\u2013\u2014")
        if _ALNUM_RE.search(title) is None:
            continue  # an empty line, or one that is only a greeting ("Hi team,")
        return shortened(capitalised(project_name(title)), TITLE_LENGTH)
    return ""
