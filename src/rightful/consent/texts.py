"""The cookie banner's words: built in (English and Spanish), in the organisation's own wording
from its catalogue (kept in the database), and in the visitor's language.

The language is the one asked for when the banner has it (`es-MX`), else its primary language
(`es`), else the organisation's default (`RIGHTFUL_BANNER_DEFAULT_LANGUAGE`). Each text is then
looked up key by key, so a partly translated language still shows a whole banner: the chosen
language, its primary language, the default language, English; within each, the organisation's
wording before the built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent.models import BannerText, ConsentPurpose
from rightful.core.config import Settings

FALLBACK = "en"  # has every text; the last resort of every lookup
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, the common part
MAX_TAG_LENGTH = 35

COMMON_KEYS = (
    "accept_all",
    "reject_all",
    "choose",
    "save",
    "close",
    "categories",
    "always_on",
    "cookies",
    "privacy_center",
    "gpc_honored",
    "gpc_detail",
    "gpc_locked",
)
# The heading and the paragraph differ with the law: asking first (opt-in) or telling (opt-out).
MODE_KEYS = ("opt_in_title", "opt_in_body", "opt_out_title", "opt_out_body")
KEYS = COMMON_KEYS + MODE_KEYS

BUILT_IN: dict[str, dict[str, str]] = {
    "en": {
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "choose": "Choose",
        "save": "Save my choices",
        "close": "Close",
        "categories": "Cookie categories",
        "always_on": "Always on",
        "cookies": "Cookies",
        "privacy_center": "Privacy center",
        "gpc_honored": "Opt-out request honored",
        "gpc_detail": "Your browser sent a Global Privacy Control signal, so we do not sell or "
        "share your personal information or use it for targeted advertising.",
        "gpc_locked": "Off: your browser's Global Privacy Control",
        "opt_in_title": "Cookies on this site",
        "opt_in_body": "We use strictly necessary cookies to make this site work. With your "
        "consent we would also use optional cookies, some set by partners. Nothing optional is "
        "set until you choose, and you can change your mind at any time in “Cookie settings”.",
        "opt_out_title": "Your privacy choices",
        "opt_out_body": "We use cookies to run this site and, as you choose, to measure visits, "
        "remember settings and show ads. Sharing data with ad partners can count as a “sale” "
        "or “sharing” under US state laws: you can opt out at any time.",
    },
    "es": {
        "accept_all": "Aceptar todo",
        "reject_all": "Rechazar todo",
        "choose": "Elegir",
        "save": "Guardar mis opciones",
        "close": "Cerrar",
        "categories": "Categorías de cookies",
        "always_on": "Siempre activas",
        "cookies": "Cookies",
        "privacy_center": "Centro de privacidad",
        "gpc_honored": "Solicitud de exclusión respetada",
        "gpc_detail": "Su navegador envió una señal de Control Global de Privacidad (GPC), así "
        "que no vendemos ni compartimos su información personal ni la usamos para publicidad "
        "dirigida.",
        "gpc_locked": "Desactivado por el Control Global de Privacidad de su navegador",
        "opt_in_title": "Cookies en este sitio",
        "opt_in_body": "Usamos cookies estrictamente necesarias para que este sitio funcione. Si "
        "usted lo acepta, también usaremos cookies opcionales, algunas de ellas de nuestros "
        "socios. No activamos nada opcional hasta que usted elija, y puede cambiar de opinión "
        "cuando quiera en «Configuración de cookies».",
        "opt_out_title": "Sus opciones de privacidad",
        "opt_out_body": "Usamos cookies para que este sitio funcione y, según lo que usted elija, "
        "para medir las visitas, recordar sus preferencias y mostrar anuncios. Compartir datos "
        "con socios publicitarios puede contar como «vender» o «compartir» información personal "
        "según las leyes estatales de EE. UU.: puede negarse cuando quiera.",
    },
}

# The built-in purposes (catalog.BUILT_IN) in other languages; their English is in catalog.py.
BUILT_IN_PURPOSES: dict[str, dict[str, dict[str, str]]] = {
    "marketing": {
        "es": {
            "title": "Todas las comunicaciones comerciales",
            "description": "Todos los mensajes comerciales por un canal. Si lo desactiva, no "
            "recibirá ninguno por ese canal, elija lo que elija en cada tema.",
        }
    },
    "sale_share": {
        "es": {
            "title": "Vender o compartir mi información personal",
            "description": "Compartir información sobre usted con socios publicitarios, algo "
            "que la ley considera vender o compartir.",
        }
    },
    "targeted_advertising": {
        "es": {
            "title": "Anuncios según mi actividad",
            "description": "Publicidad elegida según lo que usted hace en nuestros sitios y en "
            "otros.",
        }
    },
    "cookies.strictly_necessary": {
        "es": {
            "title": "Estrictamente necesarias",
            "description": "Necesarias para que el sitio funcione: iniciar sesión, su carrito y "
            "la seguridad.",
        }
    },
}


# --- language tags ------------------------------------------------------------------------------


def _canonical(tag: str) -> str:
    """A tag in its usual case: language lower (es), region upper (MX), script title (Hant)."""
    first, *rest = tag.split("-")

    def subtag(part: str) -> str:
        if len(part) == 2 and part.isalpha():
            return part.upper()
        if len(part) == 4 and part.isalpha():
            return part.title()
        return part.lower()

    return "-".join([first.lower(), *(subtag(p) for p in rest)])


def language_tag(value: str) -> str:
    """A language code such as `en`, `es` or `es-MX` in its usual case, or a ValueError."""
    if len(value) > MAX_TAG_LENGTH or not LANGUAGE_TAG.match(value):
        raise ValueError(
            f"'{value}' is not a language code; use a BCP 47 code such as en, es or es-MX."
        )
    return _canonical(value)


def requested_language(value: str | None) -> str | None:
    """What a page asked for, read leniently: `es_MX`, `es-MX-u-ca-gregory` and `ES-mx` are
    `es-MX`; a value that is no language at all is None (the default language applies)."""
    if not value:
        return None
    parts = value.strip()[:MAX_TAG_LENGTH].replace("_", "-").split("-")
    if not re.fullmatch(r"[A-Za-z]{2,3}", parts[0]):
        return None
    kept = [parts[0]]
    for part in parts[1:]:
        if not re.fullmatch(r"[A-Za-z0-9]{2,8}", part):
            break  # a singleton such as -u- or -x- starts extensions the banner does not use
        kept.append(part)
    return _canonical("-".join(kept))


def _primary(tag: str) -> str:
    return tag.split("-")[0]


def choose(requested: str | None, available: Iterable[str], default: str) -> str:
    """The best language the banner has for a request: exact, its primary language, a regional
    variant of it, else the default (English when the default has no texts)."""
    by_lower = {tag.lower(): tag for tag in sorted(available)}
    tag = requested_language(requested)
    if tag:
        primary = _primary(tag).lower()
        for candidate in (tag.lower(), primary):
            if candidate in by_lower:
                return by_lower[candidate]
        variants = [t for low, t in by_lower.items() if _primary(low) == primary]
        if variants:
            return variants[0]
    return by_lower.get(default.lower(), FALLBACK)


# --- the catalogue's `banner:` section and purpose translations -------------------------------


def _text_key(value: str) -> str:
    if value not in KEYS:
        raise ValueError(f"There is no banner text '{value}'; the texts are: {', '.join(KEYS)}.")
    return value


LanguageCode = Annotated[str, AfterValidator(language_tag)]
TextKey = Annotated[str, AfterValidator(_text_key)]
TextValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class BannerSpec(BaseModel):
    """The `banner:` section of a catalogue file: the banner's texts in the company's words."""

    model_config = ConfigDict(extra="forbid")

    texts: dict[LanguageCode, dict[TextKey, TextValue]] = Field(
        default_factory=dict,
        description="Per language code (en, es, es-MX), any of the banner's texts.",
    )


class PurposeTranslation(BaseModel):
    """A purpose's title and description in another language."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=2, max_length=120)
    description: str | None = Field(default=None, max_length=1000)


PurposeTranslations = dict[LanguageCode, PurposeTranslation]


def stored_translations(translations: PurposeTranslations) -> dict[str, dict[str, str]]:
    """A purpose's translations as kept in its row."""
    return {lang: t.model_dump(exclude_none=True) for lang, t in translations.items()}


def save_banner(session: Session, spec: BannerSpec) -> None:
    """Make the organisation's banner texts exactly the section's; flushes only."""
    wanted = {
        (lang, key): text for lang, words in spec.texts.items() for key, text in words.items()
    }
    existing = {(r.language, r.key): r for r in session.scalars(select(BannerText))}
    for ident, row in existing.items():
        if ident not in wanted:
            session.delete(row)
    for (language, key), text in wanted.items():
        row = existing.get((language, key)) or BannerText(language=language, key=key)
        row.text = text
        session.add(row)
    session.flush()


def own_texts(session: Session) -> dict[str, dict[str, str]]:
    """The organisation's banner texts: language → key → text."""
    own: dict[str, dict[str, str]] = {}
    for row in session.scalars(select(BannerText).order_by(BannerText.language, BannerText.key)):
        own.setdefault(row.language, {})[row.key] = row.text
    return own


# --- the words one visitor reads ------------------------------------------------------------


def _unique(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))


class Described(Protocol):
    """A purpose as any lookup gives it: an ORM row or the cached catalogue's plain values."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class Wording:
    """The banner's words for one visitor: the language chosen and where each text comes from."""

    language: str
    default: str
    own: dict[str, dict[str, str]]
    # The catalogue's purpose translations: purpose → language → {"title": ..., ...}.
    translations: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def text(self, key: str) -> str:
        """One text, in the first language of the fallback chain that has it."""
        chain = _unique(
            [self.language, _primary(self.language), self.default, _primary(self.default)]
        )
        for language in (*chain, FALLBACK):
            for source in (self.own, BUILT_IN):
                found = source.get(language, {}).get(key)
                if found:
                    return found
        raise KeyError(key)  # unreachable for a known key: English has every text

    def banner_texts(self, mode: str) -> dict[str, str]:
        """What consent.js shows: every common text, and the heading and paragraph of `mode`."""
        prefix = mode.replace("-", "_")  # opt-in → opt_in_title
        words = {key: self.text(key) for key in COMMON_KEYS}
        words["title"] = self.text(f"{prefix}_title")
        words["body"] = self.text(f"{prefix}_body")
        return words

    def title(self, purpose: Described) -> str:
        """A purpose's title in the visitor's language, else as catalogued."""
        return self._translated(purpose.key, "title") or purpose.title

    def description(self, purpose: Described) -> str:
        """A purpose's description in the visitor's language, else as catalogued."""
        return self._translated(purpose.key, "description") or purpose.description

    def _translated(self, key: str, name: str) -> str | None:
        # Only the chosen language and its primary language are tried: the catalogue's own
        # text is in the company's main language already.
        for language in _unique([self.language, _primary(self.language)]):
            for source in (self.translations.get(key, {}), BUILT_IN_PURPOSES.get(key, {})):
                found = source.get(language, {}).get(name)
                if found:
                    return found
        return None


def wording(session: Session, settings: Settings, requested: str | None) -> Wording:
    """The banner's words in the best language for `requested` (e.g. `es-MX`, or None)."""
    own = own_texts(session)
    available = set(BUILT_IN) | set(own)
    default = choose(language_tag(settings.banner_default_language), available, FALLBACK)
    language = choose(requested, available, default)
    return Wording(language, default, own, purpose_translations(session))


def purpose_translations(session: Session) -> dict[str, dict[str, dict[str, str]]]:
    """Every purpose's translations, read apart from the catalogue lookups (which cache the
    purposes without them: consent/snapshot.py)."""
    rows = session.execute(select(ConsentPurpose.key, ConsentPurpose.translations))
    return {key: translations for key, translations in rows if translations}


# Built-in English alone, read without the database: for work that needs no words.
BUILT_IN_ENGLISH = Wording(language=FALLBACK, default=FALLBACK, own={})
