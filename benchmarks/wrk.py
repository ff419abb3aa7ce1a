"""wrk as the load generator: a C client that costs the shared cores far less than httpx.

`run` replays requests written beforehand (`write_requests`: each a whole HTTP request, its own
body and headers) with Debian's wrk 4.1 (`apt-get install -y wrk`) and `wrk/replay.lua`, for a
fixed time over N keep-alive connections. Every record is sent at most once (each wrk thread
takes its own share), so writes stay new; what came back is read from the JSON line the
script's `done()` prints: answers by status, matches of patterns in 2xx bodies, wrk's own
errors and latency percentiles. `Result.sent_records` says which records reached the wire.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).parent / "wrk" / "replay.lua"
MARKER = "wrk-result "
INSTALL = (
    "wrk is not installed: `apt-get install -y wrk` (Debian's wrk 4.1),"
    " or choose the httpx load generator (--driver httpx; --consent-driver httpx in benchmarks.run)"
)


class WrkMissingError(RuntimeError):
    """wrk is not on PATH."""


def require() -> str:
    """wrk's path, or an error that says how to get it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissingError(INSTALL)
    return path


def render(host: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    """One POST as wrk sends it: the request line, headers, and the body."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def write_requests(path: Path, requests: Iterable[bytes]) -> int:
    """Records for replay.lua, `<length>\\n<request>` each; how many were written."""
    count = 0
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    return count


@dataclass(frozen=True)
class Result:
    """What one wrk run gave."""

    answers: int  # responses read in time
    duration_s: float
    sent: tuple[int, ...]  # requests each thread put on the wire (answered or in flight)
    records: tuple[int, ...]  # records each thread had
    statuses: Counter[int]
    matched: Counter[str]  # 2xx answers matching each label's pattern
    errors: dict[str, int]  # wrk's: connect, read, write, timeout and status (>= 400)
    latency_ms: dict[str, float]  # min, mean, p50, p90, p95, p99, max
    cpu_s: float  # wrk's own user and system CPU
    output: str  # wrk's text report, with --latency's distribution

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def wrapped(self) -> int:
        """Requests that reused a record because a thread had sent all its own."""
        return sum(max(0, s - r) for s, r in zip(self.sent, self.records, strict=True))

    def sent_records(self) -> list[int]:
        """Indexes (0-based, in the file) of the records that were sent, each once."""
        threads = len(self.sent)
        return sorted(
            k + threads * j
            for k, (sent, had) in enumerate(zip(self.sent, self.records, strict=True))
            for j in range(min(sent, had))
        )

    def outcomes(self) -> Counter[str]:
        """Answers as the httpx driver's judges name them: `status N` for any answer not 2xx,
        the labels matched by 2xx bodies (`ok` when none was asked), `error: ...` for wrk's
        socket errors and timeouts, `records reused` when a thread ran out."""
        out: Counter[str] = Counter()
        for status, n in self.statuses.items():
            if not 200 <= status < 300:
                out[f"status {status}"] += n
        ok = self.answers - self.non_2xx
        if self.matched:
            out.update(self.matched)
            unmatched = ok - sum(self.matched.values())
            if unmatched > 0:
                out["no pattern matched"] += unmatched
        elif ok:
            out["ok"] += ok
        for name in ("connect", "read", "write", "timeout"):
            if self.errors.get(name):
                out[f"error: {name}"] += self.errors[name]
        if self.wrapped:
            out["records reused"] += self.wrapped
        return out


def parse(stdout: str, cpu_s: float = 0.0) -> Result:
    """The result from wrk's output: the line replay.lua's `done()` printed."""
    line = next((x for x in stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result line:\n{stdout[-2000:]}")
    data = json.loads(line[len(MARKER) :])
    threads = sorted(data["threads"].values(), key=lambda t: int(t["id"]))
    statuses: Counter[int] = Counter()
    matched: Counter[str] = Counter()
    for thread in threads:
        statuses.update({int(s): int(n) for s, n in thread["statuses"].items()})
        matched.update({label: int(n) for label, n in thread["matched"].items()})
    return Result(
        answers=int(data["requests"]),
        duration_s=int(data["duration_us"]) / 1e6,
        sent=tuple(int(t["sent"]) for t in threads),
        records=tuple(int(t["records"]) for t in threads),
        statuses=statuses,
        matched=matched,
        errors={k: int(v) for k, v in data["errors"].items()},
        latency_ms={
            k: round(float(v) / 1000, 2) if v is not None else float("nan")
            for k, v in data["latency_us"].items()
        },
        cpu_s=cpu_s,
        output="\n".join(x for x in stdout.splitlines() if not x.startswith(MARKER)),
    )


def run(
    url: str,
    requests_file: Path,
    *,
    connections: int,
    duration_s: float,
    threads: int = 1,
    timeout_s: float = 60,
    patterns: Sequence[tuple[str, str]] = (),
) -> Result:
    """Replay `requests_file` against `url` for `duration_s` over `connections`; `patterns`
    are (label, Lua pattern) pairs counted in 2xx bodies. The timeout is long: a request that
    outlives it is dropped from the latencies, and a closed loop of many connections queues."""
    command = [
        require(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
        f"--script={SCRIPT}",
        url,
        "--",
        str(requests_file),
        str(threads),
        *(part for pair in patterns for part in pair),
    ]
    with open(requests_file.with_suffix(".out"), "w+b") as out:
        # wrk found on PATH and our own arguments; nothing from outside.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with code {process.returncode}:\n{text[-2000:]}")
    return parse(text, usage.ru_utime + usage.ru_stime)


__all__ = ["INSTALL", "Result", "WrkMissingError", "parse", "render", "require", "run"]
