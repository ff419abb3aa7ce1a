"""One access request across the demo's SQL stores and three systems reached over HTTP.

The demo company on SQLite (its three databases, 3,000 people, as `make demo` builds it) plus
three HTTP systems, each its own uvicorn server on a loopback port: the demo's help desk
(Zendesk's API, shipped `zendesk` config) and newsletters (Mailchimp's API, `mailchimp`), and a
payments service answering like Stripe (`stripe`), this benchmark's own. The person asked about
has pages to read in each: 25 help-center questions, 12 notes and 25 charges, 10 to a page.

Each request is submitted, verified and run through Rightful; its reads are timed per system
(a timing wrapper around each system's connector) and every HTTP call is logged by the server
that answered it. The lower bound replays exactly the calls one request made, with one
`httpx.Client` per server (keep-alive, the same credentials), one after another.

Run alone with `python -m benchmarks.http_systems` (`--requests N`); `make bench` runs it too.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["measure", "table"]

PERSON = "avery.quinn@example.com"
PAGE = 10
EXTRA_TICKETS, EXTRA_NOTES, CHARGES = 24, 11, 25  # on top of the demo's one ticket and one note
STRIPE_KEY = "sk_test_bench"  # not a secret: a loopback stand-in
Log = Callable[[str], None]


@dataclass
class CallLog:
    """The calls one server answered: method, path with query, headers that authenticate."""

    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


class _Logged:
    """ASGI middleware noting each call before the app answers it."""

    def __init__(self, app: ASGIApp, log: CallLog) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope["query_string"].decode()
            target = scope["path"] + (f"?{query}" if query else "")
            headers = {
                k.decode(): v.decode()
                for k, v in scope["headers"]
                if k.lower() in (b"authorization", b"x-shopify-access-token")
            }
            self.log.calls.append((scope["method"], target, headers))
        await self.app(scope, receive, send)


@contextmanager
def _serving(app: ASGIApp) -> Iterator[str]:
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on accepted connections (it checks the
    # proto; with 0, Nagle holds each response's body for the client's delayed ACK, ~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("a loopback server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _payments_app() -> Starlette:
    """A payments stand-in answering like Stripe: customers by e-mail, charges by cursor."""
    customer = {"id": "cus_avery", "object": "customer", "email": PERSON, "name": "Avery Quinn"}
    charges = [
        {"id": f"ch_{n:03d}", "customer": "cus_avery", "amount": 1999 + n, "currency": "usd"}
        for n in range(CHARGES)
    ]

    def listed(rows: list[dict[str, Any]], request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {STRIPE_KEY}":
            return JSONResponse({"error": {"type": "invalid_request_error"}}, status_code=401)
        after, limit = (
            request.query_params.get("starting_after"),
            int(request.query_params.get("limit", "10")),
        )
        ids = [r["id"] for r in rows]
        start = ids.index(after) + 1 if after in ids else 0
        chunk = rows[start : start + limit]
        body = {"object": "list", "data": chunk, "has_more": start + limit < len(rows)}
        return JSONResponse(body)

    def customers(request: Request) -> Response:
        found = [customer] if request.query_params.get("email") == PERSON else []
        return listed(found, request)

    def charge_list(request: Request) -> Response:
        mine = charges if request.query_params.get("customer") == "cus_avery" else []
        return listed(mine, request)

    def account(request: Request) -> Response:
        return listed([], request)

    return Starlette(
        routes=[
            Route("/v1/customers", customers),
            Route("/v1/charges", charge_list),
            Route("/v1/account", account),
        ]
    )


def _more_pages(data_dir: Path) -> None:
    """Give the person several pages in the demo's two vendors."""
    from rightful.demo.vendors import stores, subscriber_hash

    found = stores(data_dir)
    user = found["helpdesk"].owned_by("user", PERSON)[0]
    found["helpdesk"].add(
        (
            "ticket",
            9000 + n,
            user["id"],
            {"id": 9000 + n, "requester_id": user["id"], "subject": f"Question {n}"},
        )
        for n in range(EXTRA_TICKETS)
    )
    h = subscriber_hash(PERSON)
    found["marketing"].add(
        ("note", 9000 + n, h, {"id": 9000 + n, "email_id": h, "note": f"Note {n}"})
        for n in range(EXTRA_NOTES)
    )


def _connect(runtime: Any, urls: dict[str, str], bases: dict[str, str]) -> None:
    """The three HTTP systems in the data map, each connected to its loopback server."""
    from rightful.connectors.http import complete_dataset, config_of, shipped_dataset
    from rightful.core.db import unit_of_work
    from rightful.demo.vendors import MOUNT, VENDORS, connect_vendors
    from rightful.inventory import service as inventory
    from rightful.security.permissions import system_actor
    from rightful.security.vault import Vault

    connect_vendors(runtime, urls, base_url=bases["vendors"])
    doc = yaml.safe_load(shipped_dataset("stripe"))["dataset"][0]
    doc["fides_key"] = "payments"
    dataset = complete_dataset(config_of({"shipped": "stripe"}), doc)
    system = {
        "fides_key": "payments",
        "name": "Payments",
        "description": "Card payments at a payment service.",
        "system_type": "Service",
        "connection_type": "http",
        "dataset_references": ["payments"],
        "privacy_declarations": [
            {
                "name": "Payments",
                "data_use": "essential.service.payment_processing",
                "data_categories": ["user.financial"],
                "data_subjects": ["customer"],
            }
        ],
    }
    text = yaml.safe_dump({"dataset": [dataset], "system": [system]})
    vault, actor = Vault(runtime.settings, "connections"), system_actor("bench")
    with unit_of_work(runtime.sessions) as session:
        inventory.apply_files(session, files=[("payments.yml", text)], actor=actor)
        settings = {
            "shipped": "stripe",
            "params": {"api_key": STRIPE_KEY, "page_size": PAGE},
            "base_url": bases["payments"],
        }
        inventory.set_connection(
            session, vault, system_key="payments", kind="http", settings=settings, actor=actor
        )
        for vendor in VENDORS.values():  # ten to a page, as the payments service
            paged = {
                "shipped": vendor.shipped,
                "params": {**vendor.params, "page_size": PAGE},
                "base_url": f"{bases['vendors']}{MOUNT}{vendor.path}",
            }
            inventory.set_connection(
                session,
                vault,
                system_key=vendor.system,
                kind="http",
                settings=paged,
                actor=actor,
            )


class _Timed:
    """Times each system's reads: a wrapper around the connectors one run opens."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.reads: dict[str, int] = defaultdict(int)

    @contextmanager
    def installed(self) -> Iterator[None]:
        from rightful.inventory.stores import Connectors

        original = Connectors.__call__
        timed = self

        class Proxy:
            def __init__(self, inner: Any, key: str) -> None:
                self.inner, self.key = inner, key

            def fetch(self, request: Any) -> Any:
                started = time.perf_counter()
                try:
                    return self.inner.fetch(request)
                finally:
                    timed.seconds[self.key] += time.perf_counter() - started
                    timed.reads[self.key] += 1

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

        def call(connectors: Any, key: str) -> Any:
            return Proxy(original(connectors, key), key)

        Connectors.__call__ = call  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Connectors.__call__ = original  # type: ignore[method-assign]


def _replay(
    bases: dict[str, str], calls: dict[str, list[tuple[str, str, dict[str, str]]]]
) -> dict[str, float]:
    """The same calls with httpx, one client a server, one after another; seconds a system."""
    out = {}
    for name, made in calls.items():
        with httpx.Client(base_url=bases[name]) as client:
            started = time.perf_counter()
            for method, target, headers in made:
                client.request(method, target, headers=headers).raise_for_status()
            out[name] = time.perf_counter() - started
    return out


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 1)


def measure(requests: int, data_dir: Path, log: Log) -> dict[str, Any]:
    """Build the demo, serve the three APIs, run `requests` access requests and the bound."""
    from benchmarks.drive import capture_codes
    from rightful.core.config import Settings
    from rightful.core.db import unit_of_work
    from rightful.core.runtime import build_runtime
    from rightful.demo.estate import build_estate, demo_urls
    from rightful.demo.setup import load_data_map
    from rightful.migrations import upgrade
    from rightful.rights import flows, service
    from rightful.rights.execution import run_request
    from rightful.rights.schemas import RequestIn
    from rightful.security.permissions import system_actor

    limits = {  # one person asks again and again: no per-address limits on a bench
        name: 1_000_000
        for name in (
            "codes_per_client_per_hour",
            "codes_per_identity_per_hour",
            "requests_per_client_per_hour",
            "requests_per_address_per_hour",
        )
    }
    settings = Settings(
        data_dir=data_dir,
        secret_key=secrets.token_urlsafe(40),
        require_approval=False,
        **limits,  # type: ignore[arg-type]
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    urls = demo_urls(data_dir)
    log("http: building the demo estate (3,000 people)")
    build_estate(urls, people=3000)
    load_data_map(runtime, urls)
    from rightful.demo.vendors import MOUNT, vendor_app

    logs = {"help_center": CallLog(), "newsletter": CallLog(), "payments": CallLog()}
    timed, issued = _Timed(), capture_codes()
    with ExitStack() as stack:
        # One server a system: the two demo vendors each behind their own port.
        vendors = vendor_app(data_dir)
        helpdesk_url = stack.enter_context(
            _serving(_Logged(Starlette(routes=[Mount(MOUNT, vendors)]), logs["help_center"]))
        )
        marketing_url = stack.enter_context(
            _serving(_Logged(Starlette(routes=[Mount(MOUNT, vendors)]), logs["newsletter"]))
        )
        payments_url = stack.enter_context(_serving(_Logged(_payments_app(), logs["payments"])))
        _connect(runtime, urls, {"vendors": helpdesk_url, "payments": payments_url})
        _repoint_newsletter(runtime, marketing_url)
        _more_pages(data_dir)
        bases = {"help_center": helpdesk_url, "newsletter": marketing_url, "payments": payments_url}
        runs: list[dict[str, Any]] = []
        with timed.installed():
            for n in range(requests + 1):  # the first is a warm-up, left out
                data = RequestIn(
                    request_type="access",
                    email=PERSON,
                    name="Avery Quinn",
                    postal_code="94107",
                    date_range="all",
                    declaration_signature="Avery Quinn",
                    channel="api",
                )
                with unit_of_work(runtime.sessions) as session:
                    rid = flows.submit(session, settings, data, client="bench").id
                with unit_of_work(runtime.sessions) as session:
                    flows.verify(session, settings, request_id=rid, code=issued.pop(rid))
                    req = service.access_request(session, rid)
                    if req.status == "awaiting_approval":
                        service.approve_request(
                            session, settings, request_id=rid, actor=system_actor("bench")
                        )
                for one in logs.values():
                    one.calls.clear()
                timed.seconds.clear()
                timed.reads.clear()
                started = time.perf_counter()
                status = run_request(runtime.sessions, settings, rid)
                elapsed = time.perf_counter() - started
                if status != "completed":
                    raise RuntimeError(f"the benchmark request ended {status}")
                calls = {name: list(one.calls) for name, one in logs.items()}
                runs.append(
                    {
                        "execute_s": elapsed,
                        "seconds": dict(timed.seconds),
                        "reads": dict(timed.reads),
                        "calls": calls,
                        "bound": _replay(bases, calls),
                    }
                )
                if n and n % 5 == 0:
                    log(f"  http: {n} requests")
    runtime.engine.dispose()
    runs = runs[1:]
    systems = sorted(runs[0]["seconds"])
    per_system = {}
    for key in systems:
        http = key in logs
        row: dict[str, Any] = {
            "kind": "http" if http else "sql",
            "reads": runs[0]["reads"][key],
            "median_ms": _median_ms([r["seconds"][key] for r in runs]),
        }
        if http:
            row["http_calls"] = len(runs[0]["calls"][key])
            row["bound_median_ms"] = _median_ms([r["bound"][key] for r in runs])
            row["ratio"] = round(row["median_ms"] / max(row["bound_median_ms"], 0.001), 2)
        per_system[key] = row
    http_total = [sum(r["seconds"][k] for k in logs) for r in runs]
    bound_total = [sum(r["bound"].values()) for r in runs]
    return {
        "requests": len(runs),
        "execute_median_ms": _median_ms([r["execute_s"] for r in runs]),
        "http_median_ms": _median_ms(http_total),
        "http_bound_median_ms": _median_ms(bound_total),
        "http_calls": sum(len(c) for c in runs[0]["calls"].values()),
        "systems": per_system,
    }


def _repoint_newsletter(runtime: Any, url: str) -> None:
    """The newsletters on a server of their own (the vendors share one app otherwise)."""
    from rightful.core.db import unit_of_work
    from rightful.demo.vendors import MOUNT, VENDORS
    from rightful.inventory import service as inventory
    from rightful.security.permissions import system_actor
    from rightful.security.vault import Vault

    vendor = VENDORS["marketing"]
    settings = {
        "shipped": vendor.shipped,
        "params": {**vendor.params, "page_size": PAGE},
        "base_url": f"{url}{MOUNT}{vendor.path}",
    }
    with unit_of_work(runtime.sessions) as session:
        inventory.set_connection(
            session,
            Vault(runtime.settings, "connections"),
            system_key=vendor.system,
            kind="http",
            settings=settings,
            actor=system_actor("bench"),
        )


def table(result: dict[str, Any]) -> str:
    """The section's printed table."""
    lines = [
        f"One access request, demo SQL stores + 3 HTTP systems (median of {result['requests']})",
        f"  execute: {result['execute_median_ms']} ms; HTTP systems {result['http_median_ms']} ms"
        f" vs {result['http_bound_median_ms']} ms for the same {result['http_calls']} calls"
        " with httpx",
        f"  {'system':<14}{'kind':<6}{'reads':>6}{'calls':>7}{'ms':>9}{'httpx ms':>10}{'ratio':>7}",
    ]
    for key, row in result["systems"].items():
        lines.append(
            f"  {key:<14}{row['kind']:<6}{row['reads']:>6}{row.get('http_calls', ''):>7}"
            f"{row['median_ms']:>9}{row.get('bound_median_ms', ''):>10}{row.get('ratio', ''):>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.http_systems`: this section alone, into results/http.json."""
    from benchmarks import report

    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_systems")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        result = measure(args.requests, Path(data_dir), lambda m: print(m, file=sys.stderr))
    path = Path(__file__).parent / "results" / "http.json"
    report.write({"http": result}, path)
    print(table(result))
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()
