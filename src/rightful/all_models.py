"""Imports every model module so the metadata is complete (for Alembic and tests)."""

from rightful.casework import models as casework_models
from rightful.consent import models as consent_models
from rightful.core import claims as worker_claims
from rightful.core.db import Base
from rightful.drop import models as drop_models
from rightful.identity import models as identity_models
from rightful.inventory import models as inventory_models
from rightful.messaging import limits as messaging_limits
from rightful.messaging import models as messaging_models
from rightful.notices import models as notice_models
from rightful.rights import clock_models as rights_clocks
from rightful.rights import documents as rights_documents
from rightful.rights import import_models as rights_imports
from rightful.rights import models as rights_models
from rightful.rights import task_models as rights_tasks
from rightful.rights import transfer_models as rights_transfers
from rightful.security import models as security_models
from rightful.security import rate_limits as security_rate_limits
from rightful.security import replay as security_replay
from rightful.security import sessions as security_sessions
from rightful.security import signin_limits as security_signin_limits
from rightful.security import totp as security_totp
from rightful.worker import schedule as worker_schedule

__all__ = [
    "Base",
    "casework_models",
    "consent_models",
    "drop_models",
    "identity_models",
    "inventory_models",
    "messaging_limits",
    "messaging_models",
    "notice_models",
    "rights_clocks",
    "rights_documents",
    "rights_imports",
    "rights_models",
    "rights_tasks",
    "rights_transfers",
    "security_models",
    "security_rate_limits",
    "security_replay",
    "security_sessions",
    "security_signin_limits",
    "security_totp",
    "worker_claims",
    "worker_schedule",
]
