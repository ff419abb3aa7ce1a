"""The consent section's printed table, from the results (`consent.measure`)."""

from __future__ import annotations

from typing import Any


def _other_work(result: dict[str, Any]) -> tuple[float, float]:
    """CPU seconds of processes not in the benchmark, and all busy CPU seconds, in the runs."""
    parts = [part for side in ("rightful", "bound") for part in result[side].values()]
    cpus = [run["cpu"] for part in parts for run in part.values()]
    other = sum(cpu["other_cpu_s"] for cpu in cpus)
    sides = ("client_cpu_s", "server_cpu_s", "postgres_cpu_s", "other_cpu_s")
    return other, sum(cpu[k] for cpu in cpus for k in sides)


def _run_line(name: str, run: dict[str, Any], events: bool) -> str:
    rate = (
        f"{run['events_per_second']:>8,.0f} events/s ({run['per_second']:,.0f} req/s)"
        if events
        else f"{run['per_second']:>8,.0f} /s"
    )
    lat = run["latency"]
    return (
        f"  {name:<34}{rate:<34} median {lat['median_ms']:>8.2f} ms  p99 {lat['p99_ms']:>8.2f} ms"
    )


def _work_line(name: str, run: dict[str, Any]) -> str:
    cpu, db = run["cpu_ms_per_request"], run["database_per_request"]
    waits = [(k, v) for k, v in run["postgres_backends"].items() if k != "samples"][:3]
    return (
        f"  {name} a request, {run['concurrency']} in flight: CPU ms server {cpu['server']},"
        f" PostgreSQL {cpu['postgres']}, load generator {cpu['client']};"
        f" {db.get('statements', 0):g} statements, {db.get('commits', 0):g} commits,"
        f" {db.get('checkouts', 0):g} checkouts,"
        f" {db.get('connections_opened', 0):g} new connections;"
        f" CPU s by server process {run['cpu']['server_cpu_s_by_process']}\n"
        f"    backends on average: " + ", ".join(f"{v:g} {k}" for k, v in waits)
    )


def table(result: dict[str, Any]) -> str:
    """The consent figures, printed after the others."""
    sizes, b, ratio = result["sizes"], result["bound"], result["ratio"]
    c = sizes["concurrency"]
    lines = [
        f"Consent: uvicorn with {sizes['workers']} workers on loopback, {c} connections;"
        f" {sizes['people']:,} people seeded"
    ]
    for part, bound_key, events in (("events", "events", True), ("checks", "lookups", False)):
        lines.append(f" {part}")
        for run, label in (("one_at_a_time", "one at a time"), ("concurrent", f"{c} in flight")):
            lines.append(_run_line(f"Rightful, {label}", result["rightful"][part][run], events))
            lines.append(_run_line(f"bound, {label}", b[bound_key][run], events))
            if events:
                lines.append(
                    _run_line(f"bound + chain lock, {label}", b["events_chained"][run], events)
                )
        lines.append(_work_line("Rightful", result["rightful"][part]["concurrent"]))
        lines.append(
            f"  bound's throughput over Rightful's, {c} in flight:"
            f" {ratio[f'{part}_throughput_bound_over_rightful']}x; median one at a time,"
            f" Rightful over bound: {ratio[f'{part}_one_at_a_time_median_rightful_over_bound']}x"
        )
    if "bulk" in result:
        lines += _bulk_lines(result["bulk"])
    if "sequencer" in result:  # everything written, sequenced afterwards in batches of 1,000
        seq = result["sequencer"]
        lines.append(
            f" sequencer: {seq['events']:,} pending events into the signed log in"
            f" {seq['seconds']} s ({seq['events_per_second']:,} events/s)"
        )
    lines.append(f" ledger intact after the runs: {result['ledger_broken_at'] is None}")
    other, busy = _other_work(result)
    lines.append(
        f" CPU used by other work on the machine during the timed runs: {other:,.1f} s"
        f" of {busy:,.1f} s busy"
    )
    return "\n".join(lines)


def _bulk_lines(bulk: dict[str, Any]) -> list[str]:
    r, b = bulk["rightful"], bulk["bound"]
    probes = r["probe_checks_alongside"]
    return [
        f" bulk check of {bulk['digests']:,} digests ({bulk['suppressed_seeded']:,} suppressed)",
        f"  Rightful (text/plain, end to end)  {r['seconds']:.2f} s, returned"
        f" {r['suppressed_returned']:,} (correct: {r['correct']}), server peak"
        f" {r['server_peak_rss_mib']:,.0f} MiB",
        f"  Rightful in process, no HTTP       {r['in_process_s']:.2f} s"
        f" ({r['in_process_parse_s']:.2f} s parsing)",
        f"  bound COPY + JOIN                  {b['copy_join_s']:.2f} s"
        f"  ({bulk['ratio']['to_copy_join']}x)",
        f"  bound = ANY, {b['chunk']:,} a statement      {b['any_chunks_s']:.2f} s"
        f"  ({bulk['ratio']['to_any_chunks']}x)",
        f"  single checks sent alongside: {probes['count']}, slowest"
        f" {probes.get('max_ms', 0):,.0f} ms",
    ]
