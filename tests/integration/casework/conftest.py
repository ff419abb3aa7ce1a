"""The real IMAP server fixture for casework tests."""

from tests.support.imap import dovecot

__all__ = ["dovecot"]
