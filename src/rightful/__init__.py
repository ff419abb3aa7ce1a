"""Rightful: the software that keeps the promises of a privacy statement."""

__version__ = "0.1.0"
__all__ = ["__version__"]
