"""The words of each language secreview reads (SECREVIEW_LANGUAGES): announcement phrases, go-live and meeting
words, and how its date words map onto the date grammar's English vocabulary.

The date grammar (date_grammar.py) is written once, over English tokens. A message in another language is read
by mapping each of its words one for one onto the English word the grammar knows ("mars" → "march", "semaine"
→ "week", "prochaine" → "next", "fin" → "end"), so "fin mars", "Ende März", "finales de marzo" and "eind maart"
all read as "end of March". The mapping is word for word, so the words keep their positions and the go-live
words found in the original text still line up with the dates. Word order that differs from English ("la
semaine prochaine", "lundi prochain", "jours ouvrés") is handled by the grammar's postfix rules.

Only the configured languages' words are mapped: a word that means something else in another language ("en"
is "in" in French and Spanish but "and" in Dutch; "mes" is "month" in Spanish but "my" in French) is read in
the sense of the configured languages, and with several configured, as listed here for the first of them
that has it.
"""

from types import MappingProxyType

from bot.common.render import config_error

LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "nl")

# ---------------------------------------------------------------------------------------------------------
# Announcement phrases (the default rules.phrases are those of the configured languages)
# ---------------------------------------------------------------------------------------------------------

ANNOUNCEMENT_PHRASES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "en": (
        "new project", "kick-off", "kickoff", "kicking off", "we are launching", "we're launching", "go-live",
        "go live", "golive", "going live", "rollout", "roll out", "rolling out", "pilot", "onboarding a new vendor",
        "proof of concept", "poc",
    ),
    # Not bare "déploiement", "Einführung", "despliegue" or "uitrol": teams say them of every routine deploy,
    # like "deploy" in English, which is not a default either. A deployment that wants them lists them.
    "fr": (
        "nouveau projet", "kick-off", "mise en production", "mise en prod", "mise en service", "go-live",
        "nous lançons", "on lance", "lancement du projet", "lancement", "pilote", "preuve de concept", "poc",
        "nouveau fournisseur", "nouveau prestataire",
    ),
    "de": (
        "neues projekt", "kick-off", "go-live", "livegang", "produktivsetzung", "produktivstart",
        "inbetriebnahme", "rollout", "pilotprojekt", "pilotbetrieb", "pilot", "proof of concept", "poc",
        "neuer anbieter", "neuer dienstleister", "neuen dienstleister", "projektstart", "wir starten",
    ),
    "es": (
        "nuevo proyecto", "kick-off", "lanzamiento", "lanzamos", "puesta en producción", "puesta en produccion",
        "puesta en marcha", "salida a producción", "salida a produccion", "go-live", "piloto",
        "prueba de concepto", "poc", "nuevo proveedor",
    ),
    "nl": (
        "nieuw project", "kick-off", "livegang", "live gang", "gaat live", "gaan live", "lancering",
        "we lanceren", "uitrol van", "go-live", "pilot", "proof of concept", "poc", "nieuwe leverancier",
    ),
})

# ---------------------------------------------------------------------------------------------------------
# Words that mark the go-live date among several, and words that mark a meeting's date
# ---------------------------------------------------------------------------------------------------------

GO_LIVE_WORDS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "en": (
        "go live", "golive", "goes live", "going live", "went live", "live on", "live date", "live by",
        "live from", "launch", "launches", "launched", "launching", "release", "releases", "released",
        "releasing", "rollout", "rollouts", "roll out", "rolls out", "rolling out", "cutover", "cut over", "due",
        "deadline", "target date", "in production",
    ),
    "fr": (
        "mise en production", "mise en prod", "mep", "mise en service", "go live", "lancement", "lancé", "lancée",
        "lançons", "lance", "déploiement", "déployé", "déployée", "bascule", "ouverture", "démarrage", "démarre",
        "livraison", "échéance", "en production",
    ),
    "de": (
        "go live", "golive", "livegang", "geht live", "gehen live", "produktivsetzung", "produktivstart",
        "produktiv", "inbetriebnahme", "einführung", "führen", "rollout", "launch", "launchen", "umstellung",
        "start", "startet", "stichtag", "deadline",
    ),
    "es": (
        "lanzamiento", "lanzamos", "lanza", "puesta en producción", "puesta en produccion", "puesta en marcha",
        "salida a producción", "salida a produccion", "despliegue", "migración", "migracion", "arranque",
        "arranca", "arrancamos", "go live", "en producción", "fecha límite",
    ),
    "nl": (
        "livegang", "live gang", "gaat live", "gaan live", "lancering", "lanceren", "uitrol", "ingebruikname",
        "overstap", "verhuizing", "start", "go live", "deadline", "in productie",
    ),
})

EVENT_WORDS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "en": (
        "kick off", "kickoff", "kickoffs", "kicking off", "meeting", "meetings", "meet", "workshop", "call",
        "demo", "session", "sync", "webinar", "town hall", "townhall", "standup", "stand up", "retro", "offsite",
        "training", "lunch", "brainstorm", "presentation",
    ),
    "fr": (
        "kick off", "réunion de lancement", "reunion de lancement", "réunion", "reunion", "atelier", "démo",
        "demo", "séance", "présentation", "formation",
        "comité", "copil", "déjeuner", "cadrage", "invitation",
    ),
    "de": (
        "kick off", "meeting", "besprechung", "workshop", "demo", "schulung", "präsentation", "call",
        "abstimmung", "jour fixe", "einladung",
    ),
    "es": (
        "kick off", "reunión de arranque", "reunion de arranque", "reunión de lanzamiento", "reunión", "reunion",
        "taller", "demo", "llamada", "sesión", "presentación", "formación",
        "comité", "seguimiento", "invitación",
    ),
    "nl": (
        "kick off", "meeting", "vergadering", "overleg", "workshop", "demo", "sessie", "presentatie", "training",
        "afspraak", "bijeenkomst", "uitnodiging",
    ),
})

# ---------------------------------------------------------------------------------------------------------
# Date words onto the grammar's English tokens (accented and plain spellings both, as people type them)
# ---------------------------------------------------------------------------------------------------------


def _spread(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{"march": ("mars",)} → {"mars": "march"}."""
    return {word: token for token, words in pairs.items() for word in words}


DATE_WORDS: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType({
    "en": MappingProxyType({}),
    "fr": MappingProxyType(_spread({
        "january": ("janvier", "janv"), "february": ("février", "fevrier", "févr", "fevr"), "march": ("mars",),
        "april": ("avril", "avr"), "may": ("mai",), "june": ("juin",), "july": ("juillet", "juil"),
        "august": ("août", "aout"), "september": ("septembre",), "october": ("octobre",),
        "november": ("novembre",), "december": ("décembre", "decembre", "déc"),
        "monday": ("lundi",), "tuesday": ("mardi",), "wednesday": ("mercredi",), "thursday": ("jeudi",),
        "friday": ("vendredi",), "saturday": ("samedi",), "sunday": ("dimanche",),
        "day": ("jour",), "days": ("jours",), "week": ("semaine",), "weeks": ("semaines",), "month": ("mois",),
        "year": ("année", "annee"), "years": ("ans", "années", "annees"), "quarter": ("trimestre",),
        "semester": ("semestre",), "business": ("ouvrés", "ouvres", "ouvrables", "ouvré", "ouvrable"),
        "q1": ("t1",), "q2": ("t2",), "q3": ("t3",), "q4": ("t4",), "h1": ("s1",), "h2": ("s2",),
        "first": ("premier", "première", "premiere"), "second": ("deuxième", "deuxieme", "second", "seconde"),
        "third": ("troisième", "troisieme"), "fourth": ("quatrième", "quatrieme"),
        "one": ("un", "une"), "two": ("deux",), "three": ("trois",), "four": ("quatre",), "five": ("cinq",),
        "six": ("six",), "eight": ("huit",), "ten": ("dix",), "twelve": ("douze",),
        "today": ("aujourd",), "tomorrow": ("demain",), "next": ("prochain", "prochaine", "prochains"),
        "this": ("ce", "cette"), "early": ("début", "debut"), "mid": ("mi",), "end": ("fin",),
        "in": ("en", "dans"), "within": ("sous", "ici"), "by": ("pour",), "before": ("avant",),
        "from": ("dès", "partir"), "during": ("courant",), "of": ("de", "du", "des", "d"),
        "the": ("le", "la", "l", "les", "au"),
    })),
    "de": MappingProxyType(_spread({
        "january": ("januar", "jänner", "jan"), "february": ("februar", "feb"),
        "march": ("märz", "maerz", "marz", "mär", "mrz"), "april": ("april", "apr"), "may": ("mai",),
        "june": ("juni",), "july": ("juli",), "august": ("august", "aug"), "september": ("september", "sep"),
        "october": ("oktober", "okt"), "november": ("november", "nov"), "december": ("dezember", "dez"),
        "monday": ("montag",), "tuesday": ("dienstag",), "wednesday": ("mittwoch",), "thursday": ("donnerstag",),
        "friday": ("freitag",), "saturday": ("samstag",), "sunday": ("sonntag",),
        "day": ("tag",), "days": ("tage", "tagen"), "week": ("woche",), "weeks": ("wochen",),
        "month": ("monat", "monats"), "months": ("monate", "monaten"), "year": ("jahr", "jahres"),
        "years": ("jahre", "jahren"), "quarter": ("quartal", "quartals"), "semester": ("halbjahr", "halbjahres"),
        "workdays": ("werktage", "werktagen", "arbeitstage", "arbeitstagen", "geschäftstage", "geschäftstagen"),
        "eoy": ("jahresende",), "eom": ("monatsende",), "eoq": ("quartalsende",),
        "first": ("erste", "ersten", "erstes"), "second": ("zweite", "zweiten"), "third": ("dritte", "dritten"),
        "fourth": ("vierte", "vierten"),
        "one": ("ein", "eine", "einen", "einem", "einer"), "two": ("zwei",), "three": ("drei",),
        "four": ("vier",), "five": ("fünf", "fuenf"), "six": ("sechs",), "seven": ("sieben",), "eight": ("acht",),
        "nine": ("neun",), "ten": ("zehn",), "twelve": ("zwölf",),
        "today": ("heute",), "tomorrow": ("morgen",),
        "next": ("nächste", "nächsten", "nächster", "nächstes", "naechste", "naechsten", "kommende", "kommenden"),
        "this": ("diese", "diesen", "dieses", "diesem"), "early": ("anfang",), "mid": ("mitte",),
        "end": ("ende",), "on": ("am",), "in": ("im",), "within": ("innerhalb", "binnen"),
        "by": ("bis", "zum"), "before": ("vor",), "from": ("ab",), "of": ("des", "von", "vom"),
        "the": ("der", "die", "das", "den", "dem"),
    })),
    "es": MappingProxyType(_spread({
        "january": ("enero", "ene"), "february": ("febrero",), "march": ("marzo",), "april": ("abril", "abr"),
        "may": ("mayo",), "june": ("junio",), "july": ("julio",), "august": ("agosto",),
        "september": ("septiembre", "setiembre"), "october": ("octubre",), "november": ("noviembre",),
        "december": ("diciembre", "dic"),
        "monday": ("lunes",), "tuesday": ("martes",), "wednesday": ("miércoles", "miercoles"),
        "thursday": ("jueves",), "friday": ("viernes",), "saturday": ("sábado", "sabado"), "sunday": ("domingo",),
        "day": ("día", "dia"), "days": ("días", "dias"), "week": ("semana",), "weeks": ("semanas",),
        "month": ("mes",), "months": ("meses",), "year": ("año",), "years": ("años",), "quarter": ("trimestre",),
        "semester": ("semestre",), "business": ("hábiles", "habiles", "hábil", "laborables", "laborable"),
        "q1": ("t1",), "q2": ("t2",), "q3": ("t3",), "q4": ("t4",), "h1": ("s1",), "h2": ("s2",),
        "first": ("primer", "primero", "primera"), "second": ("segundo", "segunda"),
        "third": ("tercer", "tercero", "tercera"), "fourth": ("cuarto", "cuarta"),
        "one": ("un", "una", "uno"), "two": ("dos",), "three": ("tres",), "four": ("cuatro",), "five": ("cinco",),
        "six": ("seis",), "seven": ("siete",), "eight": ("ocho",), "nine": ("nueve",), "ten": ("diez",),
        "twelve": ("doce",),
        "today": ("hoy",), "tomorrow": ("mañana", "manana"), "next": ("próximo", "próxima", "proximo", "proxima",
                                                                     "siguiente"),
        "this": ("este", "esta"), "early": ("principios", "comienzos", "inicios"), "mid": ("mediados",),
        "end": ("finales", "final", "fin"), "in": ("en",), "within": ("dentro",), "by": ("para",),
        "before": ("antes",), "from": ("desde", "partir"), "until": ("hasta",), "during": ("durante",),
        "of": ("de", "del"), "the": ("el", "la", "los", "las"),
    })),
    "nl": MappingProxyType(_spread({
        "january": ("januari",), "february": ("februari",), "march": ("maart", "mrt"), "april": ("april",),
        "may": ("mei",), "june": ("juni",), "july": ("juli",), "august": ("augustus",), "september": ("september",),
        "october": ("oktober", "okt"), "november": ("november",), "december": ("december",),
        "monday": ("maandag",), "tuesday": ("dinsdag",), "wednesday": ("woensdag",), "thursday": ("donderdag",),
        "friday": ("vrijdag",), "saturday": ("zaterdag",), "sunday": ("zondag",),
        "day": ("dag",), "days": ("dagen",), "week": ("week",), "weeks": ("weken",), "month": ("maand",),
        "months": ("maanden",), "year": ("jaar",), "years": ("jaren",), "quarter": ("kwartaal",),
        "semester": ("halfjaar", "helft"), "workdays": ("werkdagen", "werkdag"), "eoy": ("jaareinde",),
        "first": ("eerste",), "second": ("tweede",), "third": ("derde",), "fourth": ("vierde",),
        "one": ("een", "één"), "two": ("twee",), "three": ("drie",), "four": ("vier",), "five": ("vijf",),
        "six": ("zes",), "seven": ("zeven",), "eight": ("acht",), "nine": ("negen",), "ten": ("tien",),
        "today": ("vandaag",), "tonight": ("vanavond",), "tomorrow": ("morgen", "morgenochtend", "morgenmiddag"),
        "next": ("volgende", "volgend", "komende"), "this": ("deze", "dit"), "coming": ("aanstaande",),
        "early": ("begin",), "mid": ("half", "medio", "midden"), "end": ("eind", "einde"), "on": ("op",),
        "in": ("over",), "within": ("binnen",), "by": ("tegen",), "before": ("voor", "vóór"),
        "from": ("vanaf", "per"), "until": ("tot",), "during": ("tijdens",), "of": ("van",),
        "the": ("de", "het"),
    })),
})

# Words that are not dates after the word before them: "Guten Morgen" is good morning, not tomorrow. The English
# ones are read whatever the languages.
NOT_DATES: MappingProxyType[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "en": (("black", "friday"), ("cyber", "monday")), "fr": (), "de": (("guten", "morgen"),),
    "es": (("buenos", "días"), ("buenos", "dias")),
    "nl": (("goede", "morgen"), ("goedemorgen", "morgen")),
})

# Day-of-month endings: 15th (en), 1er and 2e (fr), 1º (es), 1e, 1ste and 2de (nl). German writes "1." and the
# dot is not part of a word.
ORDINAL_SUFFIXES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "en": ("st", "nd", "rd", "th"), "fr": ("er", "re", "e", "ème", "eme"), "de": (), "es": ("º", "ª"),
    "nl": ("e", "ste", "de"),
})


def check_languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The codes, in order and without repeats; a ValueError names a language secreview does not read."""
    for code in codes:
        if code not in LANGUAGES:
            raise config_error("language", value=repr(code), languages=", ".join(LANGUAGES))
    if not codes:
        raise config_error("no_language", languages=", ".join(LANGUAGES))
    return tuple(dict.fromkeys(codes))
