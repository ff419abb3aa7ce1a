"""Who used the machine, from /proc, and what PostgreSQL's backends were doing meanwhile.

`CpuMeter` splits CPU seconds between a server's process tree, this process (the load
generator), PostgreSQL's processes and everything else; `WaitSampler` samples
`pg_stat_activity`; `peak_rss_mib` reads a process tree's peak memory; `tree_memory_mib` and
`tree_cpu_s` add up several trees (a server and its workers).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg


def _stat(pid: str) -> tuple[str, list[str]] | None:
    """A process's command name and the /proc/PID/stat fields after it."""
    try:
        head, tail = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return head.split("(", 1)[1], tail.split()


def _processes() -> dict[str, tuple[str, list[str]]]:
    found = {p.name: _stat(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    return {pid: stat for pid, stat in found.items() if stat}


def _tree(pid: int, processes: dict[str, tuple[str, list[str]]]) -> list[str]:
    """A process and its living descendants."""
    children: dict[str, list[str]] = {}
    for child, (_, fields) in processes.items():
        children.setdefault(fields[1], []).append(child)  # fields[1] is the parent's pid
    found, stack = [], [str(pid)]
    while stack:
        current = stack.pop()
        if current in processes:
            found.append(current)
        stack += children.get(current, [])
    return found


def _ticks(fields: list[str]) -> int:
    """utime, stime, and those of children it has reaped (PostgreSQL's ended backends)."""
    return sum(int(f) for f in fields[11:15])


def peak_rss_mib(pid: int) -> float:
    """The largest peak resident size (VmHWM) among a process and its descendants."""
    peak = 0
    for child in _tree(pid, _processes()):
        try:
            status = Path(f"/proc/{child}/status").read_text().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        peak = max([peak, *(int(s.split()[1]) for s in status if s.startswith("VmHWM"))])
    return round(peak / 1024, 1)


def _machine() -> tuple[int, int]:
    """(busy, total) clock ticks of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds used by the server, this process (the client), PostgreSQL's processes and
    everything else on the machine (other work: it should be near 0)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.hz = os.sysconf("SC_CLK_TCK")
        self.by_process: dict[str, float] = {}
        self.start = self._now()

    def _now(self) -> tuple[float, float, float, int, int]:
        processes = _processes()
        tree = _tree(self.server_pid or -1, processes)
        self.by_process = {p: _ticks(processes[p][1]) / self.hz for p in tree}
        postgres = sum(_ticks(f) for name, f in processes.values() if name == "postgres")
        server = sum(self.by_process.values())
        return (time.process_time(), server, postgres / self.hz, *_machine())

    def stop(self, wall_s: float) -> dict[str, Any]:
        """CPU seconds each used since the meter started, and the machine's busy share.

        A process's seconds include those of its children that ended and were reaped, so
        PostgreSQL's backends that close meanwhile are counted in the postmaster's.
        """
        started_by_process = self.by_process
        end = self._now()
        client, server, postgres = (end[i] - self.start[i] for i in range(3))
        # The supervisor uses next to nothing; the workers' shares show how evenly the kernel
        # spread the connections over them.
        split = sorted(
            (round(v - started_by_process.get(p, 0.0), 2) for p, v in self.by_process.items()),
            reverse=True,
        )
        busy = (end[3] - self.start[3]) / self.hz
        cores = (end[4] - self.start[4]) / self.hz / max(wall_s, 1e-9)
        return {
            "client_cpu_s": round(client, 2),
            "server_cpu_s": round(server, 2),
            "server_cpu_s_by_process": [v for v in split if v > 0.05],
            "postgres_cpu_s": round(postgres, 2),
            "other_cpu_s": round(max(busy - client - server - postgres, 0.0), 2),
            "machine_busy_share": round(busy / max(cores * wall_s, 1e-9), 3),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }


class WaitSampler:
    """What the database's client backends are doing, sampled every 20 ms in a thread:
    running, waiting for a lock or the WAL, or inside a transaction waiting for the app."""

    QUERY = (
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
        " WHERE datname = current_database() AND backend_type = 'client backend'"
        " AND pid <> pg_backend_pid()"
    )

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.seen: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                for state, kind, name in conn.execute(self.QUERY, prepare=True):
                    if state == "active":
                        self.seen[f"{kind}:{name}" if kind else "active, running"] += 1
                    elif state == "idle in transaction":
                        self.seen["in a transaction, waiting for the app"] += 1
                self.samples += 1

    def summary(self) -> dict[str, float]:
        """Mean backends in each state or wait, per sample, the largest first."""
        return {
            name: round(count / max(self.samples, 1), 2) for name, count in self.seen.most_common()
        } | {"samples": self.samples}


def _status_kib(pid: str, field: str) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return next((int(s.split()[1]) for s in lines if s.startswith(field)), 0)


def _pss_kib(pid: str) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return next((int(s.split()[1]) for s in lines if s.startswith("Pss:")), 0)


def tree_memory_mib(pids: list[int]) -> dict[str, float]:
    """Memory of several process trees together (a server and its workers), in MiB: the sum
    of each process's peak resident size (VmHWM, an upper bound of the trees' peak), and the
    resident (RSS) and proportional (PSS: pages shared after a fork counted once) sizes now."""
    processes = _processes()
    found = sorted({p for pid in pids for p in _tree(pid, processes)})
    return {
        "processes": len(found),
        "peak_rss_sum_mib": round(sum(_status_kib(p, "VmHWM") for p in found) / 1024, 1),
        "rss_sum_mib": round(sum(_status_kib(p, "VmRSS") for p in found) / 1024, 1),
        "pss_sum_mib": round(sum(_pss_kib(p) for p in found) / 1024, 1),
    }


def tree_cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by several process trees (with their reaped children)."""
    processes = _processes()
    found = {p for pid in pids for p in _tree(pid, processes)}
    return sum(_ticks(processes[p][1]) for p in found) / os.sysconf("SC_CLK_TCK")
