"""The cookie banner: consent.js, its configuration, the choices it records, and GPC."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
