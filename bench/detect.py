"""Announcement detection and extraction throughput, beside one precompiled regex search as the floor.

Generates 100k varied Slack messages (ordinary chatter of all lengths with mentions, links, emoji and code, and
about one in five an announcement with dates, vendors, technologies and regulations), then runs what the intake
runs on every message: `Detector.is_announcement(text)`, and for a detected announcement `Detector.prefill(text,
today=…)` (title, go-live date, tags, vendors, regulation hints). The floor is one precompiled regex of the same
phrases, searched once per message: the least any detector could do. The two alternate over several rounds and
the best round of each is reported (the machine is shared; the best round is the least disturbed).

    python bench/detect.py [--quick] [--messages 100000] [--rounds 5] [--languages en,fr,de,es,nl]

With --languages, the detector reads those languages (their phrases and dates, as SECREVIEW_LANGUAGES does) and
the messages include chatter and announcements in them.

Prints the table, then one JSON line: messages_per_s, floor_messages_per_s, ratio_to_floor, and the split figures.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/detect.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bot import intake

TODAY = date(2026, 11, 18)
ANNOUNCEMENT_SHARE = 0.2

WORDS = ("the", "build", "deploy", "team", "review", "meeting", "doc", "please", "thanks", "today", "tomorrow",
         "customer", "ticket", "incident", "fixed", "merged", "branch", "release", "notes", "lunch", "coffee",
         "project", "launch", "live", "data", "cloud", "mobile", "vendor", "test", "plan", "backlog", "api",
         "security", "access", "login", "dashboard", "report", "budget", "q3", "q4", "sprint", "demo")
CHATTER = (
    "Morning all, standup moved to {time} today",
    "Has anyone seen the build failing on main? Looks like a flaky test in {word}",
    "Thanks <@U0{n:06d}> for the quick fix on the VPN config! :tada:",
    "Can someone review my PR? <https://git.example.com/pr/{n}|PR {n}> small change",
    "FYI staging will be restarted at {time} for patching",
    "Reminder: quarterly all-hands on Thursday, agenda in the doc",
    "I'll be out on {weekday}, <@U0{n:06d}> covers the on-call",
    "```{word} = fetch({n})\nprint({word})```",
    "lol :joy: that {word} meeting went long",
    "Lunch order closes at 11:30 :pizza:",
    "Who owns the live dashboard for {word}? The numbers look off since {day} {month}",
    "The pilot light in the kitchen is out again",  # "pilot" as a word: a detector must not be smarter than its rules
)
ANNOUNCEMENTS = (
    "New project: we are launching a customer portal on {vendor}, go-live {day} {month}. It stores personal data "
    "(names, emails) and takes card payments.",
    "Kick-off next week for the {vendor} rollout to the sales team; planned go-live end of {month}.",
    "Hi all :wave: we're onboarding a new vendor, {vendor}, for payroll. Proof of concept starts {weekday}, "
    "go live {year}-{mon:02d}-{dom:02d}.",
    "*Pilot* of an AI assistant (LLM via {vendor}) for support tickets, internet-facing, launch on {dom} {month}",
    "Heads up: rollout of SSO with Okta for the partner extranet in Q{q}, HIPAA data involved",
    "New project kickoff :rocket: mobile app for field engineers with payments through {vendor}; go-live in "
    "{weeks} weeks. Design doc: <https://wiki.example.com/p/{n}|design>",
    "We are launching a data lake on Snowflake next month, GDPR and SOX reporting, <!here> please review",
    "Rolling out {vendor} to every office from {day} {month}; IoT sensors and a new API gateway",
)
# Used when their language is configured (--languages): the same mix, in that language.
FOREIGN_CHATTER = {
    "fr": ("Quelqu'un a vu le build casser sur main ? Test instable dans {word}",
           "Le point d'équipe est décalé à {time}, merci <@U0{n:06d}>"),
    "de": ("Hat jemand gesehen, dass der Build auf main fehlschlägt? Flaky Test in {word}",
           "Standup heute erst um {time}, Danke <@U0{n:06d}>"),
    "es": ("¿Alguien ha visto que falla el build en main? Test inestable en {word}",
           "La reunión diaria se mueve a las {time}, gracias <@U0{n:06d}>"),
    "nl": ("Heeft iemand gezien dat de build op main faalt? Flaky test in {word}",
           "De standup is verplaatst naar {time}, dank <@U0{n:06d}>"),
}
FOREIGN_ANNOUNCEMENTS = {
    "fr": ("Nouveau projet : portail client sur {vendor}, mise en production le {dom} mars, données personnelles.",
           "Lancement du pilote {vendor} la semaine prochaine, mise en prod fin {month_fr}."),
    "de": ("Neues Projekt: Kundenportal auf {vendor}, Go-Live am {dom}. April, personenbezogene Daten.",
           "Rollout von {vendor} ab nächster Woche, Livegang Ende Juni."),
    "es": ("Nuevo proyecto: portal de clientes en {vendor}, lanzamiento el {dom} de mayo, datos personales.",
           "Puesta en producción de {vendor} en {weeks} semanas, con pagos con tarjeta."),
    "nl": ("Nieuw project: klantportaal op {vendor}, livegang op {dom} maart, persoonsgegevens.",
           "Lancering van {vendor} volgende maand, uitrol in Q{q}."),
}
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
VENDORS = ("Salesforce", "Workday", "Snowflake", "Okta", "Stripe", "OpenAI", "Zendesk", "ServiceNow", "AWS", "Azure",
           "Datadog", "HubSpot")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def messages(count: int, *, seed: int = 11, languages: Sequence[str] = ("en",)) -> list[str]:
    """count messages: chatter of every length, and about one in five an announcement (in the languages)."""
    rng = random.Random(seed)
    chatter = CHATTER + tuple(t for lang in languages for t in FOREIGN_CHATTER.get(lang, ()))
    announcements = ANNOUNCEMENTS + tuple(t for lang in languages for t in FOREIGN_ANNOUNCEMENTS.get(lang, ()))
    foreign = any(lang != "en" for lang in languages)
    out = []
    for _ in range(count):
        fields: dict[str, Any] = {
            "vendor": rng.choice(VENDORS), "day": rng.randint(1, 28), "dom": rng.randint(1, 28),
            "month": rng.choice(MONTHS), "weekday": rng.choice(WEEKDAYS), "year": rng.choice((2026, 2027)),
            "mon": rng.randint(1, 12), "q": rng.randint(1, 4), "weeks": rng.randint(2, 12),
            "n": rng.randint(1, 999_999), "word": rng.choice(WORDS),
            "time": f"{rng.randint(8, 18)}:{rng.choice('03')}0",
        }
        if foreign:  # drawn only then, so that the English messages stay those of earlier runs
            fields["month_fr"] = rng.choice(MONTHS_FR)
        template = rng.choice(announcements if rng.random() < ANNOUNCEMENT_SHARE else chatter)
        text = template.format(**fields)
        # Some messages are long: a pasted paragraph or log after the first line.
        if rng.random() < 0.15:
            text += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 300)))
        out.append(text)
    return out


def floor_pattern(rules: intake.IntakeRules = intake.DEFAULT_RULES) -> re.Pattern[str]:
    """One precompiled, case-insensitive regex of the announcement phrases on word boundaries."""
    phrases = sorted(rules.phrases, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)


def run_floor(texts: Sequence[str], pattern: re.Pattern[str]) -> int:
    """The floor: one regex search per message; returns how many matched."""
    search = pattern.search
    return sum(1 for t in texts if search(t))


def run_detector(texts: Sequence[str], detector: intake.Detector) -> int:
    """What the intake does per message: detect, and for an announcement extract everything it pre-fills."""
    found = 0
    for t in texts:
        if detector.is_announcement(t):
            detector.prefill(t, today=TODAY)
            found += 1
    return found


def run_detection_only(texts: Sequence[str], detector: intake.Detector) -> int:
    """Detection alone, for the split."""
    return sum(1 for t in texts if detector.is_announcement(t))


def best_rate(run: Callable[[], int], count: int) -> tuple[float, int]:
    """Messages per second of one timed run, and what it found."""
    started = time.perf_counter()
    found = run()
    return count / (time.perf_counter() - started), found


def measure(texts: Sequence[str], *, rounds: int = 5, languages: Sequence[str] = ("en",)) -> dict[str, Any]:
    """Alternates floor, detection and detection+extraction for `rounds` rounds; keeps each one's best round."""
    rules = intake.rules_for_languages(tuple(languages))
    detector = intake.Detector(rules)
    pattern = floor_pattern(rules)
    announcements = [t for t in texts if detector.is_announcement(t)]
    runs: dict[str, Callable[[], int]] = {
        "floor": lambda: run_floor(texts, pattern),
        "detect": lambda: run_detection_only(texts, detector),
        "detect_extract": lambda: run_detector(texts, detector),
        "extract_only": lambda: sum(1 for t in announcements if detector.prefill(t, today=TODAY)),
    }
    best: dict[str, float] = dict.fromkeys(runs, 0.0)
    found: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in runs.items():
            size = len(announcements) if name == "extract_only" else len(texts)
            rate, found[name] = best_rate(run, size)
            best[name] = max(best[name], rate)
    return {
        "messages": len(texts),
        "announcements": found["detect"],
        "floor_matches": found["floor"],
        "messages_per_s": round(best["detect_extract"]),
        "floor_messages_per_s": round(best["floor"]),
        "ratio_to_floor": round(best["detect_extract"] / best["floor"], 3) if best["floor"] else 0.0,
        "detect_only_per_s": round(best["detect"]),
        "extract_per_announcement_us": round(1e6 / best["extract_only"], 1) if best["extract_only"] else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Generates the messages, measures and prints the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k messages, 3 rounds")
    parser.add_argument("--messages", type=int, default=None, help="how many messages (default 100k)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (best one reported)")
    parser.add_argument("--languages", default="en", help="languages read, as SECREVIEW_LANGUAGES (default en)")
    args = parser.parse_args(argv)
    count = args.messages or (20_000 if args.quick else 100_000)
    rounds = args.rounds or (3 if args.quick else 5)
    try:
        languages = intake.check_languages(tuple(c for c in re.split(r"[\s,;]+", args.languages.lower()) if c))
    except ValueError as exc:
        parser.error(f"--languages: {exc}")
    texts = messages(count, languages=languages)
    result = measure(texts, rounds=rounds, languages=languages)
    result["languages"] = list(languages)
    print(f"# {count:,} messages ({result['announcements']:,} detected as announcements, "
          f"{result['floor_matches']:,} matched by the floor regex); best of {rounds} alternating rounds; "
          f"languages {', '.join(languages)}")
    print(common.table(["what", "messages/s", "vs floor"], [
        ["floor: one precompiled regex search", result["floor_messages_per_s"], 1.0],
        ["is_announcement only", result["detect_only_per_s"],
         common.ratio(result["detect_only_per_s"], result["floor_messages_per_s"])],
        ["is_announcement + prefill (intake)", result["messages_per_s"], result["ratio_to_floor"]],
    ]))
    print(f"prefill per announcement: {result['extract_per_announcement_us']} µs")
    common.emit(result)
    return result


if __name__ == "__main__":
    main()
