"""Cold start and memory: `rightful serve` to its first answer, and what a server and a worker
hold once warm (issue 12).

    python -m benchmarks.cold_start [--runs 7] [--importtime]

Each run starts `rightful serve` as an operator would (the console script, a migrated SQLite
store in a temporary directory, the embedded worker on) and times from the process's start to
the first 200 from `/healthz`. The last run is warmed up (pages, the API, the worker's lanes
for a few seconds), then the server's resident memory is read from /proc; a separate
`rightful worker` is warmed the same way and read too. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
WARM_SECONDS = 8.0  # long enough for every lane of the embedded worker to run a few passes
PAGES = ("/healthz", "/", "/readyz", "/request", "/admin/login", "/api/v1/openapi.json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RIGHTFUL_DATA_DIR": str(data_dir),
        "RIGHTFUL_SECRET_KEY": secrets.token_urlsafe(48),
        "RIGHTFUL_BASE_URL": "http://127.0.0.1",
    }


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback only
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def rss_mib(pid: int) -> float:
    """Resident memory of one process, MiB (VmRSS)."""
    found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) / 1024 if found else 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (less sensitive to a busy machine than
    the wall clock)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def first_answer(env: dict[str, str], *, warm: bool = False) -> dict[str, float]:
    """Start `rightful serve`, time the first 200 from /healthz; optionally warm it and read
    its memory."""
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [str(BIN / "rightful"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while _get(base + "/healthz") != 200:
            if proc.poll() is not None:
                raise RuntimeError("rightful serve exited before answering")
            time.sleep(0.005)
        found = {"first_answer_s": time.perf_counter() - started, "cpu_s": cpu_seconds(proc.pid)}
        if warm:
            found["rss_after_first_answer_mib"] = rss_mib(proc.pid)
            until = time.monotonic() + WARM_SECONDS
            while time.monotonic() < until:
                for page in PAGES:
                    _get(base + page)
                time.sleep(0.2)
            found["server_rss_warm_mib"] = rss_mib(proc.pid)
        return found
    finally:
        _stop(proc)


def worker_rss(env: dict[str, str]) -> float:
    """A standalone `rightful worker` after a few seconds of polling, MiB."""
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [str(BIN / "rightful"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(WARM_SECONDS)
        return rss_mib(proc.pid)
    finally:
        _stop(proc)


def import_times(top: int = 15) -> list[tuple[str, float]]:
    """The slowest imports (cumulative ms) of what `rightful serve` loads before answering."""
    code = (
        "import rightful.cli.main, uvicorn, rightful.web.app, rightful.web.serving, "
        "rightful.worker.loop"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].rstrip(), int(parts[1]) / 1000))
    return sorted(rows, key=lambda r: r[1], reverse=True)[:top]


def run(runs: int, importtime: bool = False) -> dict[str, Any]:
    """`runs` cold starts (the last one warmed and measured), and a worker's memory."""
    data_dir = Path(tempfile.mkdtemp(prefix="rightful-cold-"))
    try:
        env = _env(data_dir)
        subprocess.run(  # noqa: S603 - our own console script
            [str(BIN / "rightful"), "db", "upgrade"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times, cpu, last = [], [], {}
        for n in range(runs):
            last = first_answer(env, warm=n == runs - 1)
            times.append(last["first_answer_s"])
            cpu.append(last["cpu_s"])
        worker = worker_rss(env)
        result: dict[str, Any] = {
            "runs": runs,
            "first_answer_s": {
                "min": min(times),
                "median": statistics.median(times),
                "max": max(times),
            },
            "cpu_to_first_answer_s": {"min": min(cpu), "median": statistics.median(cpu)},
            "server_rss_after_first_answer_mib": last.get("rss_after_first_answer_mib"),
            "server_rss_warm_mib": last.get("server_rss_warm_mib"),
            "worker_rss_warm_mib": worker,
            "server_plus_two_workers_mib": last.get("server_rss_warm_mib", 0) + 2 * worker,
            "load_1min": os.getloadavg()[0],
        }
        if importtime:
            result["slowest_imports_ms"] = import_times()
        return result
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Print the measurements as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", action="store_true", help="the slowest imports too")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.runs, args.importtime), indent=2))


if __name__ == "__main__":
    main()
