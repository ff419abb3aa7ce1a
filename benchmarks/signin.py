"""Sign-in under a flood: how fast an unrelated page answers while 8 clients fail sign-ins.

A fresh store (`rightful_bench_signin`) with one staff member is served by uvicorn, one worker
process, on a loopback port. One client asks for the privacy center's home page 20 times a
second, first alone and then while 8 other clients post wrong passwords as fast as they are
answered, in two floods:

- *distributed*: each attempt for another e-mail address from another address (sent as
  X-Forwarded-For from a trusted proxy, RFC 5737 documentation addresses), so no per-account
  or per-client limit applies and every attempt's password is checked (Argon2id): the worst
  case for the server's CPU;
- *one account, one address*: every attempt for the same account from the same client, as a
  password-guessing script would, which the sign-in limits slow down at once.

Run alone with `python -m benchmarks.signin` (`--pages N`, `--host`, `--port`); `make bench`
runs it after the other sections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.databases import Server
from benchmarks.loadgen import ROOT, _free_port, latency

__all__ = ["measure", "table"]

STORE = "rightful_bench_signin"
STAFF = "bench.officer@lumen.example"
FLOODERS = 8
PAGE = "/"
INTERVAL = 0.05  # a person clicking about, not a second flood: 20 pages a second at most
Log = Callable[[str], None]


def _prepare(server: Server, data_dir: Path) -> dict[str, str]:
    """A fresh, migrated store with one staff member; the server's environment."""
    from rightful.core.config import Settings
    from rightful.core.db import unit_of_work
    from rightful.core.runtime import build_runtime
    from rightful.migrations import upgrade
    from rightful.security.models import StaffUser
    from rightful.security.passwords import hash_secret

    server.recreate(STORE)
    env = {
        "RIGHTFUL_DATABASE_URL": server.url(STORE),
        "RIGHTFUL_SECRET_KEY": secrets.token_urlsafe(48),
        "RIGHTFUL_DATA_DIR": str(data_dir),
        "RIGHTFUL_EMBEDDED_WORKER": "false",
        "RIGHTFUL_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    # The store's side needs no proxies; the server reads the JSON list from its environment.
    values = {k.removeprefix("RIGHTFUL_").lower(): v for k, v in env.items() if "PROXIES" not in k}
    runtime = build_runtime(Settings(**values))  # type: ignore[arg-type]
    upgrade(runtime.engine)
    with unit_of_work(runtime.sessions) as session:
        password = hash_secret(secrets.token_urlsafe(16))
        session.add(StaffUser(email=STAFF, name="Bench Officer", password_hash=password))
    runtime.engine.dispose()
    return env


@contextmanager
def _serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """uvicorn, one worker process, on a free loopback port, until the block ends."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.loadgen:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with log.open("ab") as out:
        # Our own interpreter and a fixed command line; nothing comes from outside.
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start; see " + str(log))
            try:
                if httpx.get(base + "/admin/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _pages(base: str, count: int) -> list[float]:
    """`count` requests for the unrelated page, one every INTERVAL seconds (or as soon as the
    one before is answered, when it took longer); each one's seconds."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await http.get(PAGE)  # the connection, opened untimed
        for _ in range(count):
            started = time.perf_counter()
            answer = await http.get(PAGE)
            out.append(time.perf_counter() - started)
            answer.raise_for_status()
            await asyncio.sleep(max(0.0, started + INTERVAL - time.perf_counter()))
    return out


async def _flooder(base: str, n: int, distributed: bool, stop: asyncio.Event) -> Counter[str]:
    """Wrong passwords until `stop`; how each attempt was answered."""
    outcomes: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        found = re.search(r'name="csrf" value="([^"]+)"', (await http.get("/admin/login")).text)
        assert found, "no form token on the sign-in page"
        i = 0
        while not stop.is_set():
            i += 1
            email = f"flood{n}-{i}@lumen.example" if distributed else STAFF
            forwarded = f"203.0.{113 if n % 2 else 114}.{(n * 31 + i) % 254 + 1}"
            headers = {"X-Forwarded-For": forwarded if distributed else "198.51.100.7"}
            data = {"csrf": found.group(1), "email": email, "password": "wrong password!"}
            answer = await http.post("/admin/login", data=data, headers=headers)
            outcomes[str(answer.status_code)] += 1
    return outcomes


async def _run(base: str, pages: int, flood: str | None) -> dict[str, Any]:
    stop = asyncio.Event()
    flooders = []
    if flood is not None:
        flooders = [
            asyncio.create_task(_flooder(base, n, flood == "distributed", stop))
            for n in range(FLOODERS)
        ]
        await asyncio.sleep(1.0)  # every flooder has its first attempt in flight
    started = time.perf_counter()
    seconds = await _pages(base, pages)
    wall = time.perf_counter() - started
    stop.set()
    outcomes: Counter[str] = Counter()
    for counted in await asyncio.gather(*flooders):
        outcomes.update(counted)
    out: dict[str, Any] = {"pages": pages, "wall_s": round(wall, 2), "page": latency(seconds)}
    if flood is not None:
        out["sign_in_answers"] = dict(sorted(outcomes.items()))
        out["sign_ins_per_second"] = round(sum(outcomes.values()) / wall, 1)
    return out


def measure(server: Server, pages: int, data_dir: Path, results: Path, log: Log) -> dict[str, Any]:
    """Idle, then each flood; the figures for the results file."""
    env = _prepare(server, data_dir)
    results.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "flooders": FLOODERS,
        "page_path": PAGE,
        "page_interval_s": INTERVAL,
        "server_workers": 1,
    }
    with _serving(env, results / "signin-server.log") as base:
        for label, flood in (
            ("idle", None),
            ("distributed_flood", "distributed"),
            ("one_account_flood", "one"),
        ):
            log(f"sign-in: {pages} pages, {label.replace('_', ' ')}")
            out[label] = asyncio.run(_run(base, pages, flood))
    return out


def table(result: dict[str, Any]) -> str:
    """The printed summary."""
    lines = [f"Sign-in under a flood ({result['flooders']} clients failing sign-ins, 1 process)"]
    for label in ("idle", "distributed_flood", "one_account_flood"):
        run = result[label]
        lat = run["page"]
        line = (
            f"  {label.replace('_', ' '):<20} page {result['page_path']}:"
            f" median {lat['median_ms']:>8.2f} ms  p99 {lat['p99_ms']:>8.2f} ms"
            f"  max {lat['max_ms']:>8.2f} ms"
        )
        if "sign_in_answers" in run:
            line += f"  sign-ins {run['sign_ins_per_second']:,.1f}/s {run['sign_in_answers']}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.signin`: this section alone, written to results/signin.json."""
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m benchmarks.signin", description=__doc__)
    parser.add_argument("--pages", type=int, default=400, help="page requests in each run")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args(argv)
    results = Path(__file__).parent / "results"
    server = Server(args.host, args.port)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="rightful-bench-") as data_dir:
        result = measure(server, args.pages, Path(data_dir), results, log)
    result["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    (results / "signin.json").write_text(json.dumps(result, indent=2))
    print(table(result))


if __name__ == "__main__":
    main()
