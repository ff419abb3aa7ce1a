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
        f"translate them in src/rightful/locale/{lang}/LC_MESSAGES/messages.po:\n"
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


# --- no English sentence outside the catalogue ------------------------------------------------

TEMPLATES = ROOT / "src" / "rightful" / "web" / "templates"
MAIL = ROOT / "src" / "rightful" / "messaging" / "templates"
# Pages and e-mails for staff and business partners stay English (docs/languages.md): every
# other template is a consumer's and must be translated. A new staff e-mail is added here.
NOT_FOR_CONSUMERS = {
    "admin",  # the console
    "banner",  # the cookie banner has its own texts per language (consent/texts.py)
    "privacy_center/partner_ack.html",  # a business partner confirms a deletion
    "chain_anchored",
    "chain_broken",
    "consent_overdue",
    "due_digest",
    "due_reminder",
    "overdue",
    "partner_erasure",
    "staff_invite",
    "task_assigned",  # a system owner's manual task (rights/tasks.py)
    "task_due",
}
GETTEXT_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
SENTENCE = re.compile(r"[A-Za-z]{2,}[\s,]+[A-Za-z]{2,}|^[A-Z][a-z]{2,}[.!?:]?$")
WORD = re.compile(r"[A-Za-z]{2,}")
TAG = re.compile(r"<[^>]*>")
SPOKEN_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')
NOT_WORDS = {"UTC"}  # the same in every language
# Pieces of markup a macro or a condition writes (`aria-invalid="true"`, `-hint`, a class).
CODE = re.compile(r'^\s*(?:[a-z]+(?:-[a-z]+)*-?(?:="[^"]*"?)?|-[a-z-]+)\s*$')


def consumer_templates() -> list[Path]:
    """Every consumer page and e-mail template in the tree."""
    pages = [p for p in TEMPLATES.rglob("*.html") if _for_consumers(p.relative_to(TEMPLATES))]
    mails = [p for p in MAIL.iterdir() if p.stem not in NOT_FOR_CONSUMERS]
    return sorted(pages + mails)


def _for_consumers(relative: Path) -> bool:
    return relative.parts[0] not in NOT_FOR_CONSUMERS and str(relative) not in NOT_FOR_CONSUMERS


def untranslated(source: str, *, markup: bool) -> list[str]:
    """English a reader would see that is not inside _(), ngettext() or {% trans %}."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only lexed
    found: list[str] = []
    skeleton: list[str] = []  # the template's own text, each Jinja construct a NUL
    in_trans = in_macro = after_block = False
    depth, calls, last_name = 0, [], ""
    for _line, kind, value in env.lex(source):
        if kind == "name" and after_block and value in ("trans", "endtrans"):
            in_trans = value == "trans"
        if kind == "name" and after_block and value in ("macro", "endmacro"):
            in_macro = value == "macro"
        after_block = kind == "block_begin" or (after_block and kind == "whitespace")
        if in_trans or kind.startswith("comment"):
            continue
        if kind == "data":
            code = CODE.match(value) and (in_macro or "-" in value or "=" in value)
            skeleton.append(" " if code else value)
            continue
        skeleton.append("\0")
        if kind == "operator" and value == "(":
            depth += 1
            if last_name in GETTEXT_CALLS:
                calls.append(depth)
        elif kind == "operator" and value == ")":
            if calls and calls[-1] == depth:
                calls.pop()
            depth -= 1
        elif kind == "string" and not calls and SENTENCE.search(value.strip("\"'")):
            found.append(value)
        if kind != "whitespace":
            last_name = value if kind == "name" else ""
    text = "".join(skeleton)
    if markup:
        found += [v for v in SPOKEN_ATTRIBUTES.findall(text) if WORD.search(v)]
        text = TAG.sub(" ", text)
    for chunk in text.split("\0"):
        words = [w for w in WORD.findall(chunk) if w not in NOT_WORDS]
        if words:
            found.append(" ".join(chunk.split()))
    return found


@pytest.mark.parametrize(
    "path", consumer_templates(), ids=lambda p: str(p.relative_to(ROOT / "src" / "rightful"))
)
def test_a_consumer_template_holds_no_english_outside_the_catalogue(path: Path) -> None:
    left = untranslated(path.read_text(), markup=path.suffix == ".html")
    assert not left, f"wrap these in _() or {{% trans %}} (docs/languages.md): {left}"


def test_the_check_finds_plain_english_where_it_hides() -> None:
    assert untranslated("<p>Hello there</p>", markup=True) == ["Hello there"]
    assert untranslated('<nav aria-label="Main"></nav>', markup=True) == ["Main"]
    assert untranslated("{% set s = ['Two words'] %}", markup=True) == ["'Two words'"]
    assert untranslated("{{ 'Yes' if on }}", markup=True) == ["'Yes'"]
    assert untranslated("Dear {{ name }},", markup=False) == ["Dear"]
    assert untranslated("{{ a }} via {{ b }}", markup=False) == ["via"]
    wrapped = (
        "<p>{{ _('Hello %(n)s', n=name) }} {% trans %}Hi <b>there</b>{% endtrans %}</p>"
        "{# a note #}<a href=\"/x\" class=\"button\">{{ ngettext('one day', 'days', n) }}</a>"
        "{% if x == 'denied' %}·{% endif %} UTC"
        "{% macro m(n) %}field{% if n %} has-error{% endif %}{% endmacro %}"
        '<input{% if e %} aria-invalid="true"{% endif %} aria-describedby="{{ n }}-hint">'
    )
    assert untranslated(wrapped, markup=True) == []


def test_a_message_with_values_reads_as_english_and_translates_where_shown() -> None:
    message = i18n.N_("Shorten this to %(n)s characters or fewer.", n=12)
    assert message == "Shorten this to 12 characters or fewer."  # wherever a str is expected
    env = Environment(loader=DictLoader({"t.html": "{{ m|t }}"}), autoescape=True)
    i18n.install(env)
    assert env.get_template("t.html").render(lang="es", m=message) == (
        "Acórtelo a 12 caracteres o menos."
    )
    assert env.get_template("t.html").render(lang="es", m="Not in the catalogue") == (
        "Not in the catalogue"
    )


def test_a_case_in_spanish_starts_from_spanish_reply_templates() -> None:
    from rightful.casework.replies import FOLDER, LABELS, reply_templates

    english = reply_templates("https://privacy.example")
    spanish = reply_templates("https://privacy.example", "es")
    assert set(spanish) == set(english) == set(LABELS)
    for name in LABELS:
        assert (FOLDER / "es" / f"{name}.txt").is_file(), f"no Spanish {name}.txt"
        assert spanish[name][1].startswith("Hola:")
    assert "https://privacy.example/" in spanish["make_request"][1]
    assert english["answer"][1].startswith("Hello,")
    assert reply_templates("https://privacy.example", "xx") == english
