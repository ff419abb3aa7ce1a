"""The banner's words: the catalogue's `banner:` section and purpose translations, picking the
visitor's language, and falling back key by key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rightful.consent import catalog, texts
from rightful.core.errors import InvalidInputError

PURPOSES = """
purposes:
  - key: cookies.performance
    kind: cookies
    title: Performance
    description: Count visits.
    channels: [web]
"""


def parse_with(extra: str) -> catalog.CatalogFile:
    return catalog.parse(PURPOSES + extra)


def problems(extra: str) -> list[dict[str, str]]:
    with pytest.raises(InvalidInputError) as caught:
        parse_with(extra)
    return caught.value.errors


@dataclass(frozen=True)
class Purpose:
    key: str
    title: str
    description: str


# --- the catalogue file -----------------------------------------------------------------------


def test_a_banner_section_gives_texts_per_language_in_the_usual_case() -> None:
    parsed = parse_with(
        "banner:\n  texts:\n    en:\n      accept_all: Allow all\n"
        "    ES-mx:\n      reject_all: '  Rechazar todas  '\n"
    )
    assert parsed.banner is not None
    assert parsed.banner.texts == {
        "en": {"accept_all": "Allow all"},
        "es-MX": {"reject_all": "Rechazar todas"},
    }


def test_a_file_without_a_banner_section_leaves_the_texts_alone() -> None:
    assert parse_with("").banner is None


def test_an_empty_banner_section_means_the_built_in_texts() -> None:
    parsed = parse_with("banner:\n")
    assert parsed.banner is not None and parsed.banner.texts == {}


def test_an_unknown_text_key_is_named_with_the_valid_ones() -> None:
    found = problems("banner:\n  texts:\n    es:\n      acept_all: Aceptar\n")
    assert len(found) == 1
    assert found[0]["field"] == "banner.texts.es.acept_all"
    assert found[0]["message"].startswith("There is no banner text 'acept_all'; the texts are:")
    for key in texts.KEYS:
        assert key in found[0]["message"]


@pytest.mark.parametrize("code", ["spanish", "es_MX", "e", "es-", "es.MX", "es-MX-toolongsubtag"])
def test_a_malformed_language_code_is_refused(code: str) -> None:
    found = problems(f"banner:\n  texts:\n    {code}:\n      accept_all: Aceptar todo\n")
    assert found[0]["field"] == f"banner.texts.{code}"
    assert found[0]["message"].startswith(f"'{code}' is not a language code")


def test_an_empty_text_is_refused() -> None:
    found = problems("banner:\n  texts:\n    es:\n      accept_all: ''\n")
    assert found[0]["field"] == "banner.texts.es.accept_all"


def test_an_unknown_setting_in_the_banner_section_is_refused() -> None:
    found = problems("banner:\n  text:\n    es: {accept_all: Aceptar todo}\n")
    assert [f["field"] for f in found] == ["banner.text"]


def test_purpose_translations_are_read_and_checked() -> None:
    translated = catalog.parse(
        PURPOSES + "    translations:\n      es: {title: Rendimiento, description: Cuentan.}\n"
    )
    es = translated.purposes[0].translations["es"]
    assert (es.title, es.description) == ("Rendimiento", "Cuentan.")
    with pytest.raises(InvalidInputError) as caught:
        catalog.parse(PURPOSES + "    translations:\n      es: {titel: Rendimiento}\n")
    assert caught.value.errors[0]["field"] == "purposes.0.translations.es.titel"
    with pytest.raises(InvalidInputError) as caught:
        catalog.parse(PURPOSES + "    translations:\n      espanol: {title: Rendimiento}\n")
    assert caught.value.errors[0]["field"] == "purposes.0.translations.espanol"


# --- choosing the language ----------------------------------------------------------------------

AVAILABLE = {"en", "es", "fr-CA"}


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        pytest.param("es", "es", id="exact"),
        pytest.param("ES", "es", id="any-case"),
        pytest.param("es-MX", "es", id="primary-language"),
        pytest.param("es_MX", "es", id="underscore"),
        pytest.param("fr-CA", "fr-CA", id="exact-region"),
        pytest.param("fr", "fr-CA", id="a-regional-variant"),
        pytest.param("fr-FR", "fr-CA", id="another-region"),
        pytest.param("de-AT", "en", id="not-available"),
        pytest.param(None, "en", id="none-asked"),
        pytest.param("<script>", "en", id="garbage"),
        pytest.param("en-US-u-ca-gregory", "en", id="extensions"),
    ],
)
def test_the_best_available_language_is_chosen(requested: str | None, chosen: str) -> None:
    assert texts.choose(requested, AVAILABLE, "en") == chosen


def test_an_unavailable_request_gets_the_default_language() -> None:
    assert texts.choose("de", AVAILABLE, "es") == "es"


def test_a_default_without_texts_falls_back_to_english() -> None:
    assert texts.choose("de", AVAILABLE, "it") == "en"


def test_language_codes_read_from_pages_are_lenient() -> None:
    assert texts.requested_language("es_mx") == "es-MX"
    assert texts.requested_language("zh-hant-tw") == "zh-Hant-TW"
    assert texts.requested_language("") is None
    assert texts.requested_language("español") is None


# --- the words -------------------------------------------------------------------------------


def test_every_built_in_language_has_every_text() -> None:
    for language, words in texts.BUILT_IN.items():
        assert set(words) == set(texts.KEYS), language
        assert all(w.strip() for w in words.values()), language


def test_spanish_offers_accept_and_reject_alike() -> None:
    spanish = texts.Wording("es", "en", {}).banner_texts("opt-in")
    assert (spanish["accept_all"], spanish["reject_all"]) == ("Aceptar todo", "Rechazar todo")
    assert spanish["title"] == "Cookies en este sitio"
    opt_out = texts.Wording("es", "en", {}).banner_texts("opt-out")
    assert opt_out["title"] == "Sus opciones de privacidad"
    assert set(opt_out) == set(texts.COMMON_KEYS) | {"title", "body"}


def test_a_missing_text_falls_back_key_by_key_to_the_default_language() -> None:
    own = {"fr": {"accept_all": "Tout accepter"}, "es": {"save": "Guardar"}}
    french = texts.Wording("fr", "es", own)
    assert french.text("accept_all") == "Tout accepter"  # the company's French
    assert french.text("save") == "Guardar"  # the company's Spanish, the default language
    assert french.text("reject_all") == "Rechazar todo"  # built-in Spanish
    assert texts.Wording("fr", "en", own).text("reject_all") == "Reject all"


def test_a_regional_language_falls_back_to_its_primary_language_first() -> None:
    mexican = texts.Wording("es-MX", "en", {"es-MX": {"choose": "Escoger"}})
    assert mexican.text("choose") == "Escoger"
    assert mexican.text("reject_all") == "Rechazar todo"


def test_the_company_wording_wins_over_the_built_in_one() -> None:
    words = texts.Wording("en", "en", {"en": {"opt_in_title": "Lumen and cookies"}})
    assert words.banner_texts("opt-in")["title"] == "Lumen and cookies"
    assert words.banner_texts("opt-out")["title"] == "Your privacy choices"


def test_purpose_titles_are_translated_with_the_catalogue_text_as_fallback() -> None:
    translations = {"cookies.performance": {"es": {"title": "Rendimiento"}}}
    spanish = texts.Wording("es-MX", "en", {}, translations)
    performance = Purpose("cookies.performance", "Performance", "Count visits.")
    assert spanish.title(performance) == "Rendimiento"
    assert spanish.description(performance) == "Count visits."  # not translated
    assert texts.Wording("de", "en", {}, translations).title(performance) == "Performance"


def test_built_in_purposes_come_in_spanish() -> None:
    assert set(texts.BUILT_IN_PURPOSES) == {p.key for p in catalog.BUILT_IN}
    spanish = texts.Wording("es", "en", {})
    sale = next(p for p in catalog.BUILT_IN if p.key == catalog.SALE_SHARE)
    assert spanish.title(sale) == "Vender o compartir mi información personal"
    assert texts.Wording("en", "en", {}).title(sale) == sale.title


def test_a_misspelt_purpose_field_is_named_not_dropped() -> None:
    with pytest.raises(InvalidInputError) as caught:
        catalog.parse(PURPOSES + "    translation:\n      es: {title: Rendimiento}\n")
    assert [e["field"] for e in caught.value.errors] == ["purposes.0.translation"]
