"""Imports every model module so the metadata is complete (for Alembic and tests)."""

from rightful.consent import link_limits as consent_link_limits
from rightful.consent import models as consent_models
from rightful.core.db import Base
from rightful.identity import models as identity_models
from rightful.inventory import models as inventory_models
from rightful.messaging import models as messaging_models
from rightful.rights import models as rights_models
from rightful.security import models as security_models

__all__ = [
    "Base",
    "consent_link_limits",
    "consent_models",
    "identity_models",
    "inventory_models",
    "messaging_models",
    "rights_models",
    "security_models",
]
