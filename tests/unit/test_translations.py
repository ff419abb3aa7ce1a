"""The catalogues: every consumer string translated, languages found from the catalogues present,
Accept-Language read as browsers send it, dates written as each language writes them."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import DictLoader, Environment, select_autoescape

from rightful.core import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# As the Makefile's BABEL_KEYWORDS: what `make translations` looks for in Python code.
KEYWORDS = {**DEFAULT_KEYWORDS, "translate": (2,), "translate_plural": (2, 3)}


@cache
def extracted() -> dict[str, set[str]]:
    """Every marked msgid in the tree (as `make translations` finds them), with its files."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "src"), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, set()).add(filename)
    return found


def _msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _translated(message: Message) -> bool:
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return "fuzzy" not in message.flags and all(forms)


def catalogue(lang: str) -> Catalog:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


TRANSLATED = [lang for lang in i18n.available() if lang != i18n.DEFAULT]


def test_spanish_is_offered_because_its_catalogue_is_there() -> None:
    assert i18n.available()[0] == "en"  # the source language, needing no catalogue
    assert "es" in i18n.available()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_a_consumer_can_see_is_translated(lang: str) -> None:
    done = {_msgid(m) for m in catalogue(lang) if m.id and _translated(m)}
    missing = sorted(
        f"{msgid!r} ({', '.join(sorted(files))})"
        for msgid, files in extracted().items()
        if msgid not in done
    )
    assert not missing, (
        f"{len(missing)} strings lack a '{lang}' translation; run `make translations` and "
        "translate them in src/rightful/locale/{lang}/LC_MESSAGES/messages.po:\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_placeholder(lang: str) -> None:
    """A translation names the same values as its English, or rendering it fails (KeyError)."""
    wrong = [
        m.id
        for m in catalogue(lang)
        if isinstance(m.id, str) and isinstance(m.string, str) and m.string
        if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, wrong


def test_a_new_catalogue_is_a_new_language(tmp_path: Path) -> None:
    for lang in ("es", "fr", "pt_BR"):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "messages.po").write_text('msgid ""\nmsgstr ""\n')
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)  # no catalogue in it: not a language
    assert i18n.available(tmp_path) == ("en", "es", "fr", "pt_BR")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("es_US", "es"),
        ("ES", "es"),
        ("en-GB,es;q=0.5", "en"),
        ("de-DE, es;q=0.3", "es"),
        ("fr, de;q=0.5", "en"),
        ("es;q=0, en;q=0.1", "en"),  # q=0: "not this one"
        ("en;q=0.2, es;q=0.9", "es"),  # order is by weight, not position
        ("*", "en"),
        ("", "en"),
        ("es;q=nonsense, en", "en"),
    ],
)
def test_accept_language_chooses_the_best_language_we_have(header: str, expected: str) -> None:
    assert i18n.negotiate(i18n.parse_accept_language(header)) == expected


def test_dates_are_written_as_each_language_writes_them() -> None:
    assert i18n.format_date(date(2027, 1, 18), "en") == "January 18, 2027"
    assert i18n.format_date(date(2027, 1, 18), "es") == "18 de enero de 2027"


def test_a_translated_template_escapes_the_values_and_never_the_text() -> None:
    env = Environment(
        loader=DictLoader({"t.html": "{{ _('Received') }} {{ _('%(n)s & co', n=name) }}"}),
        autoescape=select_autoescape(["html"]),
    )
    i18n.install(env)
    page = env.get_template("t.html")
    assert page.render(lang="es", name="<b>") == "Recibida &lt;b&gt; & co"
    assert page.render(lang="en", name="x") == "Received x & co"
    assert page.render(lang="xx", name="x") == "Received x & co"  # unknown: English


def test_each_language_is_named_in_itself_for_the_switch() -> None:
    assert i18n.language_name("es") == "Español"
    assert i18n.language_name("en") == "English"
