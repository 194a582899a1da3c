"""Numbers and amounts as people read them: Babel's formats for the configured locale, one way everywhere.

Rounding happens here, half away from zero, before Babel formats the result: what is shown is exactly the
number returned, so a change worked out from two shown figures matches what a reader works out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, parse_pattern

DEFAULT_LOCALE = "en"
_default = {"locale": DEFAULT_LOCALE}


def check_locale(name: str) -> str:
    """The locale name if Babel knows it; a ValueError holding only the name otherwise.

    The settings word the error (templates/messages_cli.toml [settings.invalid] locale): this module is below
    bot/common/render.py, which formats amounts with it, so it cannot reach the catalogue itself.
    """
    try:
        Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(name) from None
    return name.replace("-", "_")


def set_default_locale(name: str) -> None:
    """The locale used where a caller names none (set once from the settings at start-up)."""
    _default["locale"] = check_locale(name)


def default_locale() -> str:
    """The locale used where a caller names none."""
    return _default["locale"]


def rounded(value: float | Decimal, decimals: int) -> Decimal:
    """The value rounded half away from zero to `decimals` places."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def number(value: Decimal | float | int, decimals: int = 0, locale: str | None = None) -> str:
    """A number with `decimals` places and the locale's grouping ("1,234.5"); minus as the locale writes it."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(rounded(value, decimals), format=pattern, locale=locale or default_locale())


def money(value: Decimal | float | int, currency: str, locale: str | None = None) -> str:
    """An amount in whole units of the currency, in the locale's currency format ("€25,000", "25.000 €")."""
    loc = Locale.parse(locale or default_locale())
    # The locale's own pattern without its decimals: estimates of cost avoided are whole amounts.
    pattern = parse_pattern(loc.currency_formats["standard"].pattern)
    pattern.frac_prec = (0, 0)
    return pattern.apply(rounded(value, 0), loc, currency=currency, currency_digits=False)
