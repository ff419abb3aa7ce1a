"""The languages consumers read Rightful in: gettext catalogues under src/rightful/locale.

English is the source language (the msgids); every other language is the catalogue
`locale/<lang>/LC_MESSAGES/messages.po` and nothing else, so adding one is `pybabel init -l fr`
and translating (docs/languages.md). A catalogue is compiled in memory the first time it is
used and kept for the life of the process (docs/decisions/0014-translations.md).

Templates (pages and e-mails) get `_`, `gettext` and `ngettext` from `install`; they translate
into the `lang` of the render context, so one environment serves every language at once.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Iterable
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT = "en"  # the language the templates are written in
DOMAIN = "messages"


class Text(str):
    """English text that remembers its catalogue entry and values, so a page can show it in
    the reader's language (the `t` filter) after it has travelled as a plain string."""

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, values: dict[str, object]) -> Text:
        """The text `msgid % values`, keeping both."""
        text = super().__new__(cls, msgid % values)
        text.msgid, text.values = msgid, values
        return text


def N_(message: str, **values: object) -> str:  # the name gettext tools look for
    """Mark a string for the catalogue without translating it here: it is translated where it
    is shown, in the reader's language. With values (`N_("%(n)s tries left.", n=2)`) the result
    reads as the English text and keeps what a translation needs."""
    return Text(message, values) if values else message


@cache
def available(directory: Path = LOCALE_DIR) -> tuple[str, ...]:
    """English, then every language with a catalogue in `directory`: a new language is a new
    catalogue, never a code change."""
    found = sorted(
        po.parent.parent.name
        for po in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
        if po.parent.parent.name != DEFAULT
    )
    return (DEFAULT, *found)


def supported(lang: str | None) -> str | None:
    """The catalogue for `lang` if Rightful speaks it, as given or by its base language
    (es-MX and es_MX read es); None otherwise."""
    if not lang or not lang.strip():
        return None
    by_tag = {code.replace("_", "-").lower(): code for code in available()}
    found = negotiate_locale([lang.strip().replace("_", "-")], list(by_tag), sep="-")
    return by_tag.get(found.lower()) if found else None


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (q=0 means not wanted)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(preferred: Iterable[str]) -> str:
    """The first of `preferred` Rightful speaks, or English."""
    for tag in preferred:
        if found := supported(tag):
            return found
    return DEFAULT


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    """The catalogue of `lang`, compiled in memory on first use (English: no catalogue)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or lang not in available() or not po.is_file():
        return gettext_module.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: shown in English until reviewed
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def translate(lang: str, message: str) -> str:
    """`message` in `lang` (the English itself when the catalogue lacks it). Python code that
    shows text to a consumer calls this with a literal, so `make translations` finds it."""
    return translations(lang).gettext(message)


def translate_plural(lang: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in `lang`, for `n`."""
    return translations(lang).ngettext(singular, plural, n)


def format_date(value: date, lang: str) -> str:
    """A date as a person reading `lang` writes it (December 4, 2026; 4 de diciembre de 2026)."""
    return babel_format_date(value, format="long", locale=_locale(lang))


def territory_name(code: str, lang: str) -> str | None:
    """A country's name in `lang` (Irlanda, Reino Unido), from CLDR; None if unknown."""
    name = _locale(lang).territories.get(code)
    return str(name) if name else None


def language_name(lang: str) -> str:
    """A language's name in that language, for the switch (English, Español)."""
    name = _locale(lang).get_display_name(_locale(lang)) or lang
    return name[:1].upper() + name[1:]


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang, sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT)


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return translate(_lang_of(context), message)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translate_plural(_lang_of(context), singular, plural, n)


def _lang_of(context: Context) -> str:
    lang = context.get("lang")
    return lang if isinstance(lang, str) and lang in available() else DEFAULT


def _translate(context: Any, message: str | None) -> str:
    """The `t` filter: translate a string that came from Python (a label, an error)."""
    if not message:
        return ""
    lang = _lang_of(context)
    if isinstance(message, Text):
        return translate(lang, message.msgid) % message.values
    return translate(lang, message)


def install(env: Environment) -> None:
    """Give `env` the i18n extension, translating into the render context's `lang`.

    Newstyle gettext: `{{ _('Hello %(name)s', name=x) }}` escapes `x` and never the text."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not its text
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True
    )
    env.filters["t"] = pass_context(_translate)
    env.filters["local_date"] = pass_context(
        lambda context, value: format_date(value, _lang_of(context)) if value else ""
    )
    env.globals["languages"] = available
    env.globals["language_name"] = language_name
