"""project_name(): the project an announcement's first sentence is about, as a short title.

"Kick-off: we are rolling out Salesforce for the support team, go-live next month" is about "Salesforce for the
support team". The sentence arrives as plain text (titles.py has removed Slack's markup); what is taken away, in
order: a label in front ("Kick-off:", "FYI", "New project —"), a lead-in ("Excited to announce that"), who does
what ("we are rolling out", "IT is piloting", "starting a proof of concept with"), dates and times ("go-live
15 Jan", "next month", "in Q3"), what is said about it after ("starts Monday", "goes live on …"), and filler
(articles, "new", a trailing "project"). tests/fixtures/titles.tsv holds the labelled sentences it is measured on.
"""

from __future__ import annotations

import re

from bot.intake.date_words import _MONTH_WORDS, _WEEKDAY_WORDS

TITLE_LENGTH = 60

_MONTHS = "|".join(sorted(_MONTH_WORDS, key=len, reverse=True))
_DAYS = "|".join(_WEEKDAY_WORDS)
_NUM = r"(?:\d{1,2}(?:st|nd|rd|th)?|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
_DATE = (
    rf"(?:{_NUM}(?:\s+(?:of\s+)?(?:{_MONTHS})\.?(?:\s+\d{{4}})?)?|(?:{_MONTHS})\.?(?:\s+{_NUM})?(?:,?\s+\d{{4}})?"
    rf"|(?:next|this|coming)\s+(?:week|month|quarter|year|summer|winter|spring|autumn|fall|{_DAYS}|{_MONTHS})"
    rf"|(?:the\s+)?(?:end|start|beginning|middle)\s+of\s+(?:the\s+)?(?:year|quarter|month|q[1-4]|{_MONTHS}|\d{{4}})"
    rf"|(?:early|mid|late)[\s-](?:{_MONTHS}|q[1-4])|q[1-4](?:\s+\d{{4}})?|h[12]|{_DAYS}|today|tomorrow|tonight"
    rf"|in\s+(?:\w+\s+)?(?:days?|weeks?|months?)|\d{{4}}|soon|now|asap)"
)
_PREP = r"(?:on|in|by|from|starting(?:\s+(?:on|in|from))?|before|after|until|for|at|as\s+of|beginning|begins?)"
# A date phrase at the end: "go-live next month", "from 1 April", "by end of Q4", "this summer".
_TRAILING_DATE = re.compile(
    rf"(?:[,;]?\s+|\s+[-–—]\s+|\s*\(\s*)(?:(?:go[\s-]?live|launch(?:es|ing)?|live|starts?|start\s+date|kick[\s-]?off|"
    rf"roll[\s-]?out|pilot)\s*:?\s*)?(?:{_PREP}\s+)?(?:the\s+)?{_DATE}\)?\s*$",
    re.IGNORECASE,
)
# "Go-live on 12 March:", "Starting next week:", "On 3 March," in front.
_LEADING_DATE = re.compile(rf"^(?:{_PREP}\s+)?(?:the\s+)?{_DATE}\s*[,:]?\s+", re.IGNORECASE)
# What is said about the project after its name: "… starts Monday", "… goes live on 3 May", "… is next week".
_SAID_AFTER = re.compile(
    r"\s+(?:starts?|begins?|kicks?\s+off|goes\s+live|go(?:es)?\s+live|is\s+live|launches|is\s+launching|"
    r"is\s+(?:coming|planned|scheduled|next)|will\s+(?:start|begin|go\s+live|launch)|"
    r"comes?\s+to)\b.*$",
    re.IGNORECASE,
)
_SAID_AFTER_WORDS = ("start", "begin", "kick", "live", "launch", "is coming", "is planned", "is scheduled",
                     "is next", "will ", "come")
# A clause that only adds a date or details: ", go-live 15 Jan", " — details in the doc".
_CLAUSE = re.compile(
    r"(?:,\s*|\s+[-–—]\s+|;\s*)(?:go[\s-]?live|launch|live|details|more|starting|starts|kick[\s-]?off|using|"
    r"see|thanks|questions)\b.*$",
    re.IGNORECASE,
)
_LABEL_WORDS = (
    r"fyi|psa|heads[\s-]?up|quick\s+update|update|announcement|big\s+news|news|new\s+project|project\s+kick[\s-]?off|"
    r"project|kick[\s-]?off(?:\s+meeting)?|pilot(?:\s+program(?:me)?)?|poc|proof\s+of\s+concept|roll[\s-]?out|"
    r"launch(?:ing\s+soon)?|go[\s-]?live|new\s+vendor(?:\s+onboarding)?|onboarding(?:\s+a)?\s+new\s+vendor|"
    r"security[\s-]relevant|reminder|save\s+the\s+date|coming\s+soon"
)
# A label in front: "Kick-off:", "FYI -", "New project —", "Pilot programme:", "#proj-crm kick-off:".
_LABEL = re.compile(
    rf"^(?:#[\w-]+\s+)?(?:{_LABEL_WORDS})(?:\s+(?:{_PREP}\s+)?{_DATE})?\s*(?::|[-–—]\s|!)\s*"
    rf"|^(?:fyi|psa|heads[\s-]?up)\b[,\s]*(?:that\s+)?"
    rf"|^(?:kick[\s-]?off|go[\s-]?live|pilot|poc|proof\s+of\s+concept|roll[\s-]?out|launch)(?:\s+meeting)?"
    rf"(?:\s+(?:{_PREP}\s+)?{_DATE})?(?:\s+today)?\s+(?:for|of|with)\s+",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|morning|good\s+(?:morning|afternoon)|thanks|thank\s+you)(?:\s+(?:all|team|everyone|folks|friends|"
    r"there|people))*\s*[,!.:]*\s+",
    re.IGNORECASE,
)
# "Excited to announce that", "Happy to share that", "Please welcome", "Just a heads-up that".
_LEAD_IN = re.compile(
    r"^(?:(?:we\s+are|we're|i'm|i\s+am)\s+)?(?:(?:very|really|super)\s+)?(?:excited|happy|pleased|proud|thrilled|glad)"
    r"\s+to\s+(?:announce|share|say|let\s+you\s+know)(?:\s+that)?\s+|^please\s+welcome\s+(?:our\s+)?(?:new\s+vendor\s+)?"
    r"|^just\s+a\s+(?:quick\s+)?heads[\s-]?up\s+(?:that\s+)?|^(?:a\s+)?quick\s+note(?:\s+that)?[:,]?\s+"
    r"|^(?:excited|happy|pleased)\s+to\s+",
    re.IGNORECASE,
)
_SUBJECT = (
    r"(?:we|i|it|our\s+team|the\s+team|(?:@?[\w.-]+\s+)?and\s+i|(?:the\s+)?[a-z&-]+(?:\s+[a-z&-]+)?\s+team|"
    r"it\s+team|finance|hr|security|marketing|sales|engineering|legal|procurement|ops)"
)
_AUX = (
    r"(?:\s*(?:'re|’re|'ll|’ll|'m|’m)|\s+(?:are|is|am|will|have|plan\s+to|plans\s+to|are\s+going\s+to|is\s+going\s+to|are\s+about\s+to|"
    r"is\s+about\s+to|would\s+like\s+to|want\s+to|intend\s+to))?(?:\s+(?:be|now|also|soon|finally|officially))*"
)
_VERB = (
    r"(?:launching|launch|rolling\s+out|roll\s+out|introducing|introduce|kicking\s+off|kick\s+off|starting|start|"
    r"piloting|pilot|onboarding|onboard|deploying|deploy|adopting|adopt|going\s+live\s+with|go\s+live\s+with|"
    r"trialling|trialing|trial|testing|bringing\s+in|bring\s+in|announcing|announce|setting\s+up|set\s+up|"
    r"signing\s+up\s+for|evaluating|running)"
)
# Who does what, in front: "We are rolling out", "IT is piloting", "Kicking off", "Next week we start".
_ACTOR_VERB = re.compile(
    rf"^(?:(?:next|this)\s+\w+\s+)?(?:{_SUBJECT}{_AUX}\s+)?(?P<verb>{_VERB})\b[,:]?\s*",
    re.IGNORECASE,
)
# What the verb leads to before the project itself: "a pilot of", "the rollout of", "a new vendor,".
# "We are moving …", "We will migrate …": the subject goes, the project's own verb stays.
_SUBJECT_ONLY = re.compile(r"^(?:we|i)(?:\s*(?:'re|’re|'ll|’ll)|\s+(?:are|will))\s+(?=[a-z]+\s)", re.IGNORECASE)
# "onboarding a new vendor for background checks: Checkr": Checkr for background checks.
_VENDOR_FOR = re.compile(r"^(?:a\s+)?new\s+vendor\s+(?P<what>for\s+.+?)\s*:\s*(?P<who>.+)$", re.IGNORECASE)
# A label in bold or followed by an emoji, before the markup goes: "*New project* :sparkles: …".
_MARKED_LABEL = re.compile(
    rf"^[*_~]*(?P<label>{_LABEL_WORDS})[*_~]*(?:\s*:[a-z0-9_+'-]+:)+\s*|^[*_]+(?P<bold>{_LABEL_WORDS})[*_]+\s+",
    re.IGNORECASE,
)
_OBJECT_LEAD = re.compile(
    r"^(?:(?:a|an|the|our)\s+)?(?:(?:new\s+)?(?:pilot|poc|proof\s+of\s+concept|trial|rollout|roll-out|launch|go-live|"
    r"kick-?off|onboarding)\s+(?:of|with|for)\s+|new\s+vendor\s*(?:,|:|for\b)?\s*|vendor\s*[,:]\s*)",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:(?:a|an|the|our|my|their|this)\s+)?(?:(?:brand[\s-])?new\s+(?=\S+\s+\S))?", re.IGNORECASE)
_TRAILING_FILLER = re.compile(
    r"(?<=\S)\s+(?:project|programme|program|initiative|rollout|roll-out|go-live|launch|kick-?off)\s*$", re.IGNORECASE
)
_ROLLOUT_NOUN = re.compile(r"(?<!\bthe)(?<!\ba)\s+(?:rollout|roll-out|go-live)\s+(?=(?:for|of|in|at|across)\b)",
                           re.IGNORECASE)
_ROLLED_TO = re.compile(r"^(?P<what>.+?)\s+to\s+(?P<whom>(?:the|all|our|every|each)\b.*)$", re.IGNORECASE)
_COMMA_PREP = re.compile(r",\s+(?=(?:for|to|in|on|with|via|as)\s)", re.IGNORECASE)
_EDGE = " \t,;:.!?-–—"
_TAIL_WINDOW = 90
_DATE_ENDINGS = frozenset({
    *_MONTH_WORDS, *_WEEKDAY_WORDS, "week", "month", "quarter", "year", "summer", "winter", "spring", "autumn",
    "fall", "today", "tomorrow", "tonight", "soon", "now", "asap", "day", "days", "weeks", "months",
    "q1", "q2", "q3", "q4", "h1", "h2",
})


def _strip_all(pattern: re.Pattern[str], text: str, limit: int = 4) -> str:
    """Takes the pattern off the front of the text as often as it matches (never down to nothing)."""
    for _ in range(limit):
        match = pattern.match(text)
        new = text[match.end():].strip(_EDGE) if match else ""
        if not new or new == text:
            return text
        text = new
    return text


def _ends_like_a_date(text: str) -> bool:
    # The date pattern is slow to try at every space; most titles end in a word no date ends in.
    last = text.rstrip(_EDGE + ")").rpartition(" ")[2].lower().rstrip(".")
    return last in _DATE_ENDINGS or any(c.isdigit() for c in last)


def _strip_tail(pattern: re.Pattern[str], text: str, limit: int = 4) -> str:
    """Takes the pattern off the end as often as it matches; a date phrase is short, so only the tail is read."""
    for _ in range(limit):
        if not _ends_like_a_date(text):
            return text
        match = pattern.search(text, max(0, len(text) - _TAIL_WINDOW))
        new = text[: match.start()].strip(_EDGE) if match else ""
        if not new or new == text:
            return text
        text = new
    return text


def _unwrap(text: str) -> str:
    # "(Stripe)" alone is the name itself.
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        return text[1:-1].strip()
    return text


def project_name(sentence: str) -> str:
    """The project the sentence announces, without the announcing; the sentence itself when nothing is left."""
    text = sentence.strip(_EDGE)
    original = text
    text = _strip_all(_GREETING, text)
    text = _strip_all(_LABEL, text)
    text = _strip_all(_LEAD_IN, text)
    text = _strip_all(_LEADING_DATE, text, limit=2)
    verb = ""
    match = _ACTOR_VERB.match(text)
    if match and match.end() < len(text):
        verb = match.group("verb").lower()
        text = text[match.end():].strip(_EDGE)
        text = _strip_all(_LEADING_DATE, text, limit=2)
        vendor = _VENDOR_FOR.match(text)
        if vendor:
            text = f"{vendor.group('who')} {vendor.group('what')}"
    else:
        text = _SUBJECT_ONLY.sub("", text, count=1)
    text = _strip_all(_OBJECT_LEAD, text, limit=2)
    lowered = text.lower()
    # Each pattern below is tried only when a word it needs is there (most titles have none of them).
    if ("," in text or ";" in text or " - " in text or "–" in text or "—" in text):
        text = _CLAUSE.sub("", text).strip(_EDGE) or text
    if any(word in lowered for word in _SAID_AFTER_WORDS):
        text = _SAID_AFTER.sub("", text).strip(_EDGE) or text
    text = _strip_tail(_TRAILING_DATE, text)
    if "roll" in lowered or "go-live" in lowered:
        text = _ROLLOUT_NOUN.sub(" ", text)
    if verb.startswith("roll"):
        rolled = _ROLLED_TO.match(text)
        if rolled:  # "rolling out Zoom Phone to the sales team": Zoom Phone for the sales team
            text = f"{rolled.group('what')} for {rolled.group('whom')}"
    text = _ARTICLE.sub("", text, count=1).strip(_EDGE) or text
    text = _strip_all(_OBJECT_LEAD, text, limit=1)
    text = _TRAILING_FILLER.sub("", text).strip(_EDGE) or text
    text = _unwrap(text)
    if text.count(",") == 1:  # "Deel, for contractor payments"; an aside set off by two commas stays
        text = _COMMA_PREP.sub(" ", text)
    text = " ".join(text.split())
    return text if any(c.isalnum() for c in text) else original


def unmark_label(line: str) -> str:
    """A label set off by markup ("*New project* :sparkles: …") as "New project: …", so it is still seen."""
    match = _MARKED_LABEL.match(line)
    if match is None:
        return line
    return f"{match.group('label') or match.group('bold')}: {line[match.end():]}"


def shortened(text: str, limit: int = TITLE_LENGTH) -> str:
    """Within `limit`: cut before a trailing "with …", "via …" when that fits, else on a word with an ellipsis."""
    if len(text) <= limit:
        return text
    cuts = [m.start() for m in _TAIL_PHRASE.finditer(text) if limit // 2 <= m.start() <= limit]
    if cuts:
        return text[: cuts[-1]].rstrip(_EDGE)
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(_EDGE) + "…"


_TAIL_PHRASE = re.compile(r"\s+(?:with|via|using|by|from|on|at|in|for|to)\s", re.IGNORECASE)


def capitalised(text: str) -> str:
    """The first letter upper-cased, unless the first word is cased on purpose ("iOS", "eBay")."""
    first = text.split(" ", 1)[0]
    if not text or not text[0].isalpha() or any(c.isupper() for c in first[1:]):
        return text
    return text[0].upper() + text[1:]
