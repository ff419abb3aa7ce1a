"""The web application: privacy center, admin console and REST API in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from rightful import __version__
from rightful.consent import check_cache
from rightful.core import i18n
from rightful.core.runtime import Runtime
from rightful.web import errors
from rightful.web.admin.account_routes import router as admin_account_router
from rightful.web.admin.appeal_routes import router as admin_appeal_router
from rightful.web.admin.case_routes import router as admin_case_router
from rightful.web.admin.consent_routes import router as admin_consent_router
from rightful.web.admin.drop_routes import router as admin_drop_router
from rightful.web.admin.intake_routes import router as admin_intake_router
from rightful.web.admin.laws_routes import router as admin_laws_router
from rightful.web.admin.notice_routes import router as admin_notice_router
from rightful.web.admin.report_routes import router as admin_report_router
from rightful.web.admin.routes import router as admin_router
from rightful.web.admin.signin_routes import router as admin_signin_router
from rightful.web.admin.staff_routes import router as admin_staff_router
from rightful.web.admin.task_routes import router as admin_task_router
from rightful.web.admin.token_routes import router as admin_token_router
from rightful.web.api import docs as api_docs
from rightful.web.api.appeal_routes import router as appeal_api_router
from rightful.web.api.audit_routes import router as audit_api_router
from rightful.web.api.batch_routes import router as batch_api_router
from rightful.web.api.check_path import LeanCheckMiddleware
from rightful.web.api.consent_routes import router as consent_api_router
from rightful.web.api.report_routes import router as report_api_router
from rightful.web.api.routes import router as api_router
from rightful.web.api.sms_routes import router as sms_api_router
from rightful.web.api.subscription_routes import router as subscription_api_router
from rightful.web.api.task_routes import router as task_api_router
from rightful.web.banner.routes import router as banner_router
from rightful.web.health import router as health_router
from rightful.web.hot_routes import install_first as install_event_routes_first
from rightful.web.hsts import HstsMiddleware
from rightful.web.i18n import router as language_router
from rightful.web.middleware import LimitsMiddleware
from rightful.web.privacy_center.agent_routes import router as agent_confirm_router
from rightful.web.privacy_center.appeals import router as appeal_router
from rightful.web.privacy_center.contact import router as contact_router
from rightful.web.privacy_center.lookup import router as lookup_router
from rightful.web.privacy_center.metrics_routes import router as metrics_router
from rightful.web.privacy_center.notice import install_banner
from rightful.web.privacy_center.notice import router as notice_router
from rightful.web.privacy_center.preferences import router as preferences_router
from rightful.web.privacy_center.routes import router as public_router
from rightful.web.privacy_center.subscribe import router as subscribe_router
from rightful.web.privacy_center.transfers import router as transfer_router
from rightful.web.privacy_center.unsubscribe import router as unsubscribe_router
from rightful.web.privacy_center.withdraw import router as withdraw_router
from rightful.worker.dispatch import Dispatcher, Waker
from rightful.worker.loop import EmbeddedWorker

HERE = Path(__file__).parent


def create_app(
    runtime: Runtime, *, start_worker: bool | None = None, worker_elsewhere: Waker | None = None
) -> FastAPI:
    """Build the app; the embedded worker runs unless told otherwise, or unless it runs in
    another process (`worker_elsewhere`, woken through it: web/wake.py)."""
    settings = runtime.settings
    embedded = None
    if worker_elsewhere is None and (
        start_worker if start_worker is not None else settings.embedded_worker
    ):
        embedded = EmbeddedWorker(runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if embedded:
            embedded.start()
        yield
        if embedded:
            embedded.stop()
        check_cache.stop_for(runtime.engine)

    app = FastAPI(
        title="Rightful API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by web/api/docs.py, without a CDN or inline script
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.dispatcher = Dispatcher(runtime, embedded or worker_elsewhere)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.templates.env.globals["company"] = settings.company_name
    app.state.templates.env.globals["demo_mode"] = settings.demo_mode
    app.state.templates.env.globals["settings"] = settings  # error pages show contact details too
    i18n.install(app.state.templates.env)  # consumer pages in the reader's language
    install_banner(app, runtime)  # a material change to the privacy notice, for a while
    # Innermost, so the limits, headers and session handling outside it are the same for all.
    app.add_middleware(LeanCheckMiddleware, runtime=runtime)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="rf_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https"),
        # The browser's copy; a staff session ends in the store (security/sessions.py).
        max_age=max(8, settings.staff_session_hours) * 3600,
    )
    if settings.base_url.startswith("https"):
        app.add_middleware(HstsMiddleware)
    app.add_middleware(
        LimitsMiddleware,
        max_bytes=settings.max_body_bytes,
        bulk={
            "/api/v1/suppressions/bulk": settings.max_bulk_bytes,
            "/api/v1/rights-requests/batch": settings.max_bulk_bytes,
            # The forms that take documents: a scanned letter, a permission, evidence.
            "/requests": settings.max_upload_bytes,
            "/admin/intake": settings.max_upload_bytes,
            "/consent/receipts/verify": settings.max_upload_bytes,  # receipts with long proofs
        },
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)
    api_docs.install(app)
    # First: a probe's answer needs none of the routes below. FastAPI builds an included
    # router's routes when a request is first matched against them, in order, so placed here
    # the first /healthz (a load balancer's, an orchestrator's) waits for none of them.
    app.include_router(health_router)  # no token, no session, no audit (web/health.py)
    # Then the API and the banner: FastAPI tries routers in order, each router's routes in
    # turn, so an integrator's call placed after the ~100 page and console routes was first
    # matched against all of them (no path is shared, so the order changes no answer; the
    # API reference keeps its order: pages and console are not in it).
    app.include_router(banner_router)
    app.include_router(batch_api_router)  # before api_router: /batch is not a request id
    app.include_router(api_router)
    app.include_router(consent_api_router)
    app.include_router(audit_api_router)
    app.include_router(appeal_api_router)
    app.include_router(task_api_router)
    app.include_router(sms_api_router)
    app.include_router(subscription_api_router)
    app.include_router(report_api_router)
    # Pages for people are not part of the API reference.
    for pages in (
        public_router,
        preferences_router,
        unsubscribe_router,
        subscribe_router,
        language_router,
        lookup_router,
        withdraw_router,
        agent_confirm_router,
        appeal_router,
        contact_router,
        transfer_router,
        metrics_router,
        notice_router,
    ):
        app.include_router(pages, include_in_schema=False)
    app.include_router(admin_signin_router, include_in_schema=False)
    app.include_router(admin_account_router, include_in_schema=False)
    app.include_router(admin_intake_router, include_in_schema=False)
    app.include_router(admin_case_router, include_in_schema=False)
    app.include_router(admin_router, include_in_schema=False)
    app.include_router(admin_appeal_router, include_in_schema=False)
    app.include_router(admin_task_router, include_in_schema=False)
    app.include_router(admin_consent_router, include_in_schema=False)
    app.include_router(admin_token_router, include_in_schema=False)
    app.include_router(admin_laws_router, include_in_schema=False)
    app.include_router(admin_drop_router, include_in_schema=False)
    app.include_router(admin_notice_router, include_in_schema=False)
    app.include_router(admin_report_router, include_in_schema=False)
    app.include_router(admin_staff_router, include_in_schema=False)
    app.add_api_route("/favicon.ico", _no_icon, include_in_schema=False)
    install_event_routes_first(app)  # matched before the ~200 routes above (web/hot_routes.py)
    if settings.demo_mode:  # the demo's help desk and e-mail marketing vendors (decision 0015)
        from rightful.demo.vendors import MOUNT, vendor_app

        app.mount(MOUNT, vendor_app(settings.data_dir))
    return app


def _no_icon() -> Response:
    """No icon: an empty answer rather than a 404 that browsers log as an error on each page."""
    return Response(status_code=204)
