"""Shared pytest configuration: the fixture plugins every test can use."""

pytest_plugins = [
    "tests.support.services",
    "tests.support.app",
    "tests.support.live",
    "tests.support.cli",
]
