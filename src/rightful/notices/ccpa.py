"""The CCPA's enumerated categories of personal information (Cal. Civ. Code § 1798.140(v))
and which data-map categories are sensitive personal information (§ 1798.140(ae))."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "identifiers": "Identifiers",
    "customer_records": "Customer records (Cal. Civ. Code § 1798.80(e))",
    "protected_classifications": "Characteristics of protected classifications",
    "commercial": "Commercial information",
    "biometric": "Biometric information",
    "internet_activity": "Internet or other electronic network activity",
    "geolocation": "Geolocation data",
    "sensory": "Audio, electronic, visual, thermal, olfactory or similar information",
    "professional": "Professional or employment-related information",
    "education": "Education information",
    "inferences": "Inferences drawn to create a profile",
    "sensitive": "Sensitive personal information",
}

# Data-map categories (fideslang) that are sensitive personal information: account log-in and
# card numbers with what gives access to them, government identifiers, precise geolocation,
# race, religion, sex life, health, biometrics and genetics.
SENSITIVE_PREFIXES = (
    "user.authorization.credentials",
    "user.authorization.password",
    "user.authorization.biometric",
    "user.financial.bank_account",
    "user.financial.credit_card",
    "user.government_id",
    "user.location.precise",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.health_and_medical",
    "user.biometric",
)


def covers(notice_key: str, held: str) -> bool:
    """Whether a category the notice names covers a category the data map holds: itself and
    what lies beneath it. A bare top-level key (`user`) covers only itself, or it would hide
    every category."""
    if held == notice_key:
        return True
    return "." in notice_key and held.startswith(notice_key + ".")


def is_sensitive(held: str) -> bool:
    """Whether a data-map category is sensitive personal information."""
    return any(covers(prefix, held) for prefix in SENSITIVE_PREFIXES)
