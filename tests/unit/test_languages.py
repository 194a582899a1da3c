"""Announcements in French, German, Spanish and Dutch (SECREVIEW_LANGUAGES): phrases, dates, settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import intake
from bot.common.calendar import WorkCalendar
from bot.config import SettingsError, load_settings
from bot.intake import Detector, extract_go_live, rules_for_languages

TODAY = date(2026, 11, 18)  # a Wednesday
ALL = ("en", "fr", "de", "es", "nl")
EVERY = Detector(rules_for_languages(ALL))
ENGLISH = Detector(intake.DEFAULT_RULES)

ANNOUNCEMENTS = [
    "Mise en production le 15 mars du nouveau portail client",
    "Nouveau projet : refonte du SIRH avec Workday",
    "Nous lançons un chatbot RH le mois prochain",
    "Produktivsetzung am 1. April für das neue CRM",
    "Neues Projekt: Data Warehouse auf BigQuery",
    "Livegang Ende März, bitte Review",
    "Lanzamiento el 3 de mayo del portal de clientes",
    "Nuevo proyecto con un nuevo proveedor de nóminas",
    "Puesta en producción la semana que viene",
    "De livegang staat gepland op 12 februari",
    "Nieuw project: HR-chatbot met OpenAI",
    "We lanceren het partnerplatform op 15 oktober",
]
CHATTER = [
    "Quelqu'un a vu que le build casse sur main depuis lundi ?",
    "Le déploiement d'hier soir s'est bien passé, merci à tous",
    "Réunion d'équipe décalée à 14h",
    "Hat jemand den Build auf main kaputt gemacht?",
    "Das Deployment von gestern lief gut, danke",
    "¿Alguien sabe por qué falla el build en main?",
    "El despliegue de ayer fue bien, gracias",
    "Heeft iemand de build op main stuk gemaakt?",
    "De deploy van gisteren ging goed, bedankt",
    "Mes congés commencent le 20 décembre",
]


@pytest.mark.parametrize("text", ANNOUNCEMENTS)
def test_announcements_in_the_configured_languages_are_detected(text: str) -> None:
    assert EVERY.is_announcement(text)
    assert not ENGLISH.is_announcement(text), "English phrases alone should not match it"


@pytest.mark.parametrize("text", CHATTER)
def test_chatter_in_those_languages_is_not(text: str) -> None:
    assert not EVERY.is_announcement(text)


def test_the_phrases_of_the_languages_are_the_defaults() -> None:
    assert rules_for_languages(("en",)) is intake.DEFAULT_RULES
    rules = rules_for_languages(("fr", "en"))
    assert rules.languages == ("fr", "en")
    assert rules.phrases[0] == "nouveau projet" and "mise en production" in rules.phrases
    assert "new project" in rules.phrases and len(rules.phrases) == len(set(rules.phrases))
    assert rules_for_languages(("de",)).phrases[:2] == ("neues projekt", "kick-off")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mise en production le 15 mars", date(2027, 3, 15)),
        ("MEP la semaine prochaine", date(2026, 11, 23)),
        ("Mise en prod mercredi prochain", date(2026, 11, 25)),  # "next Wednesday" is never today
        ("Mise en prod mercredi", TODAY),  # a weekday alone: today included
        ("Lancement fin juin", date(2027, 6, 30)),
        ("Go-live au T2 2027", date(2027, 4, 1)),
        ("Déploiement au deuxième semestre 2027", date(2027, 7, 1)),
        ("Go-Live am Freitag, 20. November", date(2026, 11, 20)),
        ("Produktivsetzung in 10 Werktagen", date(2026, 12, 2)),
        ("Go-Live bis zum Jahresende", date(2026, 12, 31)),
        ("Launch im 2. Quartal 2027", date(2027, 4, 1)),
        ("Lanzamiento el 3 de mayo de 2027", date(2027, 5, 3)),
        ("Salida a producción a mediados de marzo", date(2027, 3, 11)),
        ("Puesta en producción el próximo lunes", date(2026, 11, 23)),
        ("Despliegue en 10 días hábiles", date(2026, 12, 2)),
        ("Livegang eind maart", date(2027, 3, 31)),
        ("We gaan over 3 weken live", date(2026, 12, 9)),
        ("Lancering in het eerste kwartaal van 2027", date(2027, 1, 1)),
        # A meeting's date is not the go-live's, in any language.
        ("Réunion de lancement le 1er décembre, mise en production le 4 janvier", date(2027, 1, 4)),
        ("Kick-off am Donnerstag, Go-Live nächsten Montag", date(2026, 11, 23)),
        # Words that only look like dates.
        ("Guten Morgen! Neues Projekt: Ticketsystem, Termine folgen", None),
        ("Buenos días, nuevo proyecto de firma electrónica", None),
        ("We are launching the Black Friday landing page", None),
    ],
)
def test_dates_in_every_language(text: str, expected: date | None) -> None:
    assert extract_go_live(text, today=TODAY, languages=ALL) == expected
    assert EVERY.prefill(text, today=TODAY).go_live == expected


def test_a_word_is_read_in_the_first_configured_language_that_has_it() -> None:
    """'de' is 'of' in Spanish and 'the' in Dutch; either way "de 2027" reads; 'mes' is Spanish 'month'."""
    assert extract_go_live("Lanzamiento en el T2 de 2027", today=TODAY, languages=("es", "nl")) == date(2027, 4, 1)
    assert extract_go_live("Livegang in de week van 21 december", today=TODAY, languages=("nl", "es")) == date(
        2026, 12, 21)
    # In French alone, "fin de mes congés" (the end of my holidays) names no date; with Spanish, "mes" is a month.
    assert extract_go_live("Mise en prod à la fin de mes congés", today=TODAY, languages=("fr",)) is None
    assert extract_go_live("Mise en prod à la fin de mes congés", today=TODAY, languages=("es", "fr")) == date(
        2026, 11, 30)


def test_business_days_in_an_announcement_follow_the_holiday_calendar() -> None:
    """Friday 18 December + 10 jours ouvrés: Christmas and New Year's Day are not counted in France."""
    french = Detector(rules_for_languages(("fr",)), calendar=WorkCalendar(ZoneInfo("Europe/Paris"), holidays="FR"))
    plain = Detector(rules_for_languages(("fr",)))
    text = "Mise en production sous 10 jours ouvrés"
    assert french.prefill(text, today=date(2026, 12, 18)).go_live == date(2027, 1, 5)
    assert plain.prefill(text, today=date(2026, 12, 18)).go_live == date(2027, 1, 1)


def test_languages_setting(tmp_path: Path) -> None:
    """SECREVIEW_LANGUAGES: any separators and case; a configured phrase list still replaces the defaults."""
    settings = load_settings(_env_file=None, secreview_languages="FR, de")
    assert settings.languages == ("fr", "de")
    assert "livegang" in settings.intake_rules().phrases and "new project" not in settings.intake_rules().phrases
    assert load_settings(_env_file=None).intake_rules() is intake.DEFAULT_RULES
    config = tmp_path / "secreview.toml"
    config.write_text('[announcements]\nphrases = ["nouveau projet"]\n')
    rules = load_settings(_env_file=None, secreview_languages="fr", secreview_config=config).intake_rules()
    assert rules.phrases == ("nouveau projet",) and rules.languages == ("fr",)
    assert Detector(rules).prefill("nouveau projet, lancement fin mars", today=TODAY).go_live == date(2027, 3, 31)
    with pytest.raises(SettingsError, match=r"^SECREVIEW_LANGUAGES: 'it' is not a language secreview reads"):
        load_settings(_env_file=None, secreview_languages="en,it")
    with pytest.raises(SettingsError, match=r"^SECREVIEW_LANGUAGES: name at least one language"):
        load_settings(_env_file=None, secreview_languages=" , ")
