"""Appeals run on the deadlines suite's Rightful: real SMTP, an admin and an approver."""

from tests.integration.due.conftest import due_app, frozen

__all__ = ["due_app", "frozen"]
