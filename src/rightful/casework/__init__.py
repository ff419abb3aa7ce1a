"""Casework: what the privacy office receives that is not (yet) a confirmed rights request —
e-mail to the privacy mailbox, questions, concerns and complaints (docs/mailbox-and-cases.md)."""
