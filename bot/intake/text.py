"""Text preparation shared by detection, dates and titles: Slack markup, words, and the phrase matcher."""

import re
from collections.abc import Iterable, Sequence

# ---------------------------------------------------------------------------------------------------------
# Text preparation shared by detection and pre-fill
#
# A message is cut into words: runs of letters and digits, lower-cased. Everything else (spaces,
# punctuation, hyphens, apostrophes, underscores) only separates words, so "Kick-off", "kick off" and
# "KICK OFF!" are the same two words, "we're" is "we re", and "pilot" never matches inside "autopilot".
# Configured phrases are cut the same way, so a phrase matches exactly when its words follow each other.
# There is no stemming: "pilots" and "piloting" do not match "pilot" ("I'm piloting the drone" is not an
# announcement); a deployment that wants plurals lists them.
# ---------------------------------------------------------------------------------------------------------

# Slack wraps mentions, channels and links in <...>; a label after "|" is what the reader sees.
_SLACK_TAG_RE = re.compile(r"<([^<>|\n]*)(?:\|([^<>\n]*))?>")
# An emoji code has at least one letter, so times such as 10:30:45 survive.
_EMOJI_RE = re.compile(r":[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*:")
# Text is split with bytes.translate + split (C speed): every ASCII character but letters and digits becomes a
# space, UTF-8 bytes of other characters are kept; the rare pieces that are not ASCII then go through the
# equivalent regex. (A regex over the whole text is ten times slower.)
_SEPARATORS = bytes(b if b >= 128 or chr(b).isalnum() else 32 for b in range(256))
_WORD_RE = re.compile(r"[^\W_][^\W_]*")  # not [^\W_]+: a leading character class lets the engine skip ahead


def _unescape(text: str) -> str:
    """Undoes Slack's escaping of &, < and > (it escapes nothing else)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _tag_for_detection(m: re.Match[str]) -> str:
    """Keeps only what a reader sees as words: link labels and dates, not IDs, URLs or channel names."""
    target, label = m.group(1), m.group(2)
    if target.startswith(("@", "#")):
        return " "
    if target.startswith("!"):
        return f" {label} " if label and target.startswith("!date") else " "
    return f" {label} " if label else " "


def _clean_for_detection(text: str) -> str:
    """Lower-case text without Slack markup, for word and date matching."""
    # Each step runs only when its trigger character is there: most messages need none of them.
    if "<" in text:
        text = _SLACK_TAG_RE.sub(_tag_for_detection, text)
    if "&" in text:
        text = _unescape(text)
    text = text.lower()
    if ":" in text:
        text = _EMOJI_RE.sub(" ", text)  # ":cloud:" is weather, not a technology
    return text


def _words(lowered: str) -> list[str]:
    """The words of cleaned text (see above)."""
    pieces = lowered.encode().translate(_SEPARATORS).decode().split()
    if lowered.isascii():
        return pieces
    words: list[str] = []
    for piece in pieces:
        if piece.isascii():
            words.append(piece)
        else:  # "we’re", "café", "kick–off"
            words += _WORD_RE.findall(piece)
    return words


def _phrase_words(phrase: str) -> tuple[str, ...]:
    """The words of a configured phrase, cut exactly like a message."""
    return tuple(_words(_clean_for_detection(phrase)))


def _positions(words: list[str], wanted: Iterable[str]) -> list[int]:
    """Sorted positions of the wanted words (list.count and list.index run in C)."""
    found: list[int] = []
    for word in wanted:
        i = -1
        for _ in range(words.count(word)):
            i = words.index(word, i + 1)
            found.append(i)
    found.sort()
    return found


# A match: (first word, word after, the values of the phrase).
_Span = tuple[int, int, tuple[str, ...]]
# Phrases are looked up by their most distinctive word, so that "we are launching" costs nothing in a
# message that says "we" but not "launching".
_COMMON_WORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "to", "for", "and", "or", "we", "are", "is", "re", "s", "new", "go",
     "out", "off", "up", "by", "with", "our", "as", "at", "it", "data", "service", "services", "system"}
)


# A phrase under its key word: (offset of the key word, words, kind, values, check for multi-word phrases).
_Entry = tuple[int, list[str], int, tuple[str, ...], re.Pattern[str] | None]


def _joined_phrase(words: tuple[str, ...]) -> re.Pattern[str]:
    """The words of a phrase in one sentence: "go-live" and "go live" but not "Let's go. Live demo"."""
    gap = r"(?:[^\w.!?;\n]|_|[.!?;](?!\s))+"
    # The first word comes first, so that the engine can search for it as a literal; the look-behind
    # after it checks that it starts a word.
    first = re.escape(words[0]) + rf"(?<![^\W_].{{{len(words[0])}}})"
    return re.compile(first + gap + gap.join(map(re.escape, words[1:])) + r"(?![^\W_])")


class _PhraseMatcher:
    """Finds phrases of several kinds in a word list: whole words, longest match first, no stemming."""

    __slots__ = ("_by_key", "_keys", "_kinds", "_nothing", "_once")

    def __init__(self, *kinds: Iterable[tuple[str, str]]) -> None:
        """Each argument is one kind of phrase, as (phrase, value) pairs; a phrase may have several values."""
        self._kinds = len(kinds)
        by_key: dict[str, list[_Entry]] = {}
        inner: set[tuple[str, int]] = set()
        for kind, entries in enumerate(kinds):
            grouped: dict[tuple[str, ...], list[str]] = {}
            for phrase, value in entries:
                words = _phrase_words(phrase)
                if words and value not in grouped.setdefault(words, []):
                    grouped[words].append(value)
            for words, values in grouped.items():
                offset = max(range(len(words)), key=lambda i: (words[i] not in _COMMON_WORDS, len(words[i])))
                joined = None
                if len(words) > 1:
                    joined = _joined_phrase(words)
                    inner.update((word, kind) for word in words)
                entry = (offset, list(words), kind, tuple(values), joined)
                by_key.setdefault(words[offset], []).append(entry)
        self._by_key = by_key
        self._keys = frozenset(by_key)
        self._nothing: tuple[tuple[_Span, ...], ...] = ((),) * len(kinds)
        # Key words that only stand for one-word phrases, and that no longer phrase of the same kind
        # contains: the first occurrence says all there is to say, and cannot overlap another match.
        self._once = frozenset(
            key for key, entries in by_key.items()
            if all(len(e[1]) == 1 and (key, e[2]) not in inner for e in entries)
        )

    def spans(
        self, lowered: str, words: list[str], word_set: frozenset[str], *, every: bool = False
    ) -> Sequence[Sequence[_Span]]:
        """Per kind, the occurrences in text order, not overlapping; without every, a word's first only."""
        hits = self._keys.intersection(word_set)
        if not hits:  # the common case for a chatty channel: nothing more to do
            return self._nothing
        by_key, once = self._by_key, self._once
        matches: list[tuple[int, int, int, tuple[str, ...]]] = []
        longer = False
        joined_ok: dict[re.Pattern[str], bool] = {}  # one search per phrase, however often its words recur
        for word in hits:
            entries = by_key[word]
            if not every and word in once:
                i = words.index(word)
                for entry in entries:
                    matches.append((i, -1, entry[2], entry[3]))
                continue
            i = -1
            for _ in range(words.count(word)):
                i = words.index(word, i + 1)
                for offset, phrase, kind, values, joined in entries:
                    if joined is None:
                        matches.append((i, -1, kind, values))
                        continue
                    start, k = i - offset, len(phrase)
                    if start >= 0 and words[start : start + k] == phrase:
                        ok = joined_ok.get(joined)
                        if ok is None:
                            ok = joined_ok[joined] = joined.search(lowered) is not None
                        if ok:
                            matches.append((start, -k, kind, values))
                            longer = True
        if not matches:
            return self._nothing
        if len(matches) > 1:
            matches.sort()
        found: list[list[_Span]] = [[] for _ in range(self._kinds)]
        if not longer:  # one-word phrases cannot overlap each other
            for start, _, kind, values in matches:
                found[kind].append((start, start + 1, values))
            return found
        free = [0] * self._kinds
        for start, neg_k, kind, values in matches:
            if start >= free[kind]:
                found[kind].append((start, start - neg_k, values))
                free[kind] = start - neg_k
        return found
