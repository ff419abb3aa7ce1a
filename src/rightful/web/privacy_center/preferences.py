"""The preference center, one-click unsubscribe and the list-removal page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
