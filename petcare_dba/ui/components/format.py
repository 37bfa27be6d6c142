"""Small formatting helpers shared by pages: numbers, bytes and times per locale (Babel).

`language` is the UI language (`en`, `pt-BR`); Babel formats numbers with that locale's decimal
and group symbols (1,234.5 / 1.234,5), and `plotly_separators` hands the same two symbols to
Plotly so a chart's ticks and hovers agree with the text around them. Bytes use binary units
(KiB, MiB…) with one decimal; counts are integers, never `1.0`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, numbers
from babel.dates import format_date, format_datetime

BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def babel_locale(language: str | None) -> str:
    """`pt-BR` -> `pt_BR`; anything unknown is English."""
    return "pt_BR" if (language or "").lower().startswith("pt") else "en"


def decimal(value: float | int | None, language: str | None = None, digits: int = 1) -> str:
    """A number with `digits` decimals (trailing zeros kept) in the locale's symbols."""
    if value is None:
        return "-"
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return numbers.format_decimal(value, format=pattern, locale=babel_locale(language))


def count(value: float | int | None, language: str | None = None) -> str:
    """A count: an integer with the locale's grouping (12.0 -> '12', 1234 -> '1,234')."""
    if value is None:
        return "-"
    return numbers.format_decimal(
        round(float(value)), format="#,##0", locale=babel_locale(language)
    )


def byte_scale(largest: float) -> tuple[str, float]:
    """The binary unit that reads best for values up to `largest`, and its divisor."""
    size, divisor = abs(float(largest)), 1.0
    for unit in BYTE_UNITS:
        if size < 1024 or unit == BYTE_UNITS[-1]:
            return unit, divisor
        size /= 1024
        divisor *= 1024
    return BYTE_UNITS[-1], divisor  # pragma: no cover - the loop always returns


def human_bytes(value: float | int | None, language: str | None = None) -> str:
    """1536 -> '1.5 KiB' ('1,5 KiB' in pt-BR); bytes below 1 KiB as an integer."""
    if value is None:
        return "-"
    unit, divisor = byte_scale(float(value))
    if unit == "B":
        return f"{count(value, language)} B"
    return f"{decimal(float(value) / divisor, language)} {unit}"


def plotly_separators(language: str | None) -> str:
    """Plotly's `separators`: the locale's decimal symbol, then its group symbol."""
    loc = Locale.parse(babel_locale(language))
    return numbers.get_decimal_symbol(loc) + numbers.get_group_symbol(loc)


def zone(name: str | None) -> dt.tzinfo:
    """The browser's time zone by IANA name, else the server's local zone."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.datetime.now().astimezone().tzinfo or dt.UTC


def moment(value: dt.datetime | None, language: str | None, tz: dt.tzinfo) -> str:
    """A timestamp in the viewer's zone and the locale's medium date-time form."""
    if value is None:
        return "-"
    return format_datetime(value.astimezone(tz), "medium", locale=babel_locale(language))


def number(value: float | int | None, language: str | None = None) -> str:
    """A measured number in the locale's symbols, up to three decimals (1234.5 -> '1.234,5')."""
    if value is None:
        return "-"
    return numbers.format_decimal(value, locale=babel_locale(language))


def day(value: dt.date | None, language: str | None) -> str:
    """A calendar date in the locale's medium form (no time zone: a date is a date)."""
    if value is None:
        return "-"
    return format_date(value, "medium", locale=babel_locale(language))


def when(value: dt.datetime | dt.date | None, language: str | None, tz: dt.tzinfo) -> str:
    """A date or timestamp per locale; a naive timestamp is taken as the viewer's zone."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return moment(value if value.tzinfo else value.replace(tzinfo=tz), language, tz)
    return day(value, language)


def date_input_format(language: str | None) -> str:
    """`st.date_input`'s display format for the language (Streamlit offers three)."""
    return "DD/MM/YYYY" if babel_locale(language) == "pt_BR" else "YYYY/MM/DD"
