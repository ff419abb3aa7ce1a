"""REST API v1 for consent: state, checks, history, recording, suppression, unsubscribe headers."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rightful.web.api.routes import api_actor

router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_actor)], tags=["consent"])
