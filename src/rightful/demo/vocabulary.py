"""The demo company's vocabulary: products, support topics, marketing lists.

Shared by the demo generator and the benchmark's generator so both estates read alike.
"""

from __future__ import annotations

from decimal import Decimal

CATALOG: tuple[tuple[str, str, Decimal], ...] = (
    ("LUM-HUB-2", "Lumen Hub (2nd gen)", Decimal("129.00")),
    ("LUM-CAM-IN", "Lumen Indoor Cam", Decimal("59.99")),
    ("LUM-CAM-OUT", "Lumen Outdoor Cam", Decimal("149.99")),
    ("LUM-BELL-1", "Lumen Video Doorbell", Decimal("179.00")),
    ("LUM-THERM-3", "Lumen Smart Thermostat", Decimal("199.00")),
    ("LUM-PLUG-4", "Lumen Smart Plug (4-pack)", Decimal("39.99")),
    ("LUM-BULB-C", "Lumen Color Bulb", Decimal("24.99")),
    ("LUM-LOCK-1", "Lumen Smart Lock", Decimal("229.00")),
    ("LUM-SENS-MO", "Lumen Motion Sensor", Decimal("29.99")),
)
QUESTIONS = (
    ("What was the name of your first pet?", ("Biscuit", "Luna", "Pepper", "Milo", "Daisy")),
    ("In what city were you born?", ("Sacramento", "Fresno", "Denver", "Austin", "Tucson")),
    ("What was your childhood nickname?", ("Bug", "Ace", "Sunny", "Scout", "Pip", "Red")),
    ("What was the make of your first car?", ("Toyota", "Honda", "Ford", "Subaru", "Saab")),
)
SUBJECTS = (
    "Camera keeps going offline",
    "Thermostat won't connect to Wi-Fi",
    "Return request",
    "Doorbell battery drains quickly",
    "Can't sign in to the app",
    "Smart lock update failed",
    "Too many marketing emails",
    "Where is my order?",
)
AGENT_LINES = (
    "Thanks for reaching out, I'm happy to help with that.",
    "Could you confirm the serial number on the back of the device?",
    "I've reset that on our side; please try again in a few minutes.",
    "I've escalated this to our hardware team and will follow up by email.",
    "Glad that worked! Is there anything else I can help with?",
)
TOPICS = ("product_news", "offers", "newsletter", "beta_program")
ORDER_STATUSES = ("delivered",) * 6 + ("shipped", "processing", "cancelled", "returned")
SOURCES = ("checkout", "website_footer", "app", "event")
BRANDS = ("visa", "mastercard", "amex", "discover")
DOMAINS = ("example.com", "example.org", "example.net")
