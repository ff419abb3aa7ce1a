"""Portability transfers: the person confirms the recipient through the link e-mailed to their
verified address, and the recipient downloads through its own link (rights/transfers.py). Each
signed link is the permission; a page opened by a mail scanner changes nothing until its
button is pressed."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import transfers
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()


@router.get("/transfers/confirm/{token}")
def confirm_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Whom the copy goes to, and two buttons: send it, or do not."""
    with unit_of_work(rt.sessions) as session:
        shown, reference = transfers.for_confirmation(session, rt.settings, token)
    return render(
        request,
        "privacy_center/transfer_confirm.html",
        token=token,
        transfer=shown,
        reference=reference,
        answered=None,
    )


@router.post("/transfers/confirm/{token}")
async def confirm(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Record the person's answer (a second answer changes nothing) and show where it stands."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        status = transfers.answer(
            session, rt.settings, token=token, confirm=form.get("answer") == "send"
        )
    with unit_of_work(rt.sessions) as session:
        shown, reference = transfers.for_confirmation(session, rt.settings, token)
    disp.mail_queued()  # wakes the worker, which sends a confirmed copy that is ready
    return render(
        request,
        "privacy_center/transfer_confirm.html",
        token=token,
        transfer=shown,
        reference=reference,
        answered=status,
    )


@router.get("/transfers/receive/{token}")
def receive_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The recipient's page: who sends what, and the download button."""
    with unit_of_work(rt.sessions) as session:
        reference, sender, name = transfers.receiving(session, rt.settings, token)
    return render(
        request,
        "privacy_center/transfer_receive.html",
        token=token,
        reference=reference,
        sender=sender,
        recipient_name=name,
    )


@router.post("/transfers/receive/{token}")
def receive(token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The package, for whoever holds the recipient's link while it is valid (recorded)."""
    with unit_of_work(rt.sessions) as session:
        data, name = transfers.receive(session, rt.settings, token)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
