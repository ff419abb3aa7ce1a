"""Shared foundations: settings, database, errors and time."""
