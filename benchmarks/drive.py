"""Access requests through Rightful, without HTTP: submit, verify with the e-mailed code, run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.counting import StatementCounter, delta
from benchmarks.store import Person
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.identity import service as codes
from rightful.rights import flows
from rightful.rights.execution import run_request
from rightful.rights.schemas import RequestIn

Record = dict[str, Any]


def capture_codes() -> dict[str, str]:
    """Keep each plain verification code as it is issued, standing in for reading the e-mail.

    `flows.submit` looks `issue_code` up on its module at call time, so wrapping it there
    leaves Rightful's own code path unchanged.
    """
    issued: dict[str, str] = {}
    original = codes.issue_code

    def issue_code(*args: Any, **kwargs: Any) -> str:
        code = original(*args, **kwargs)
        issued[kwargs["request_id"]] = code
        return code

    codes.issue_code = issue_code  # type: ignore[assignment]
    return issued


def form(person: Person, request_type: str = "access") -> RequestIn:
    """The request a person files: e-mail, name and ZIP reach every verification level."""
    return RequestIn(
        request_type=request_type,  # type: ignore[arg-type]
        email=person.email,
        name=person.name,
        postal_code=person.postal_code,
        jurisdiction="CA",
        date_range="all",
        declaration_signature=person.name,
        channel="api",
    )


def submit_and_verify(
    runtime: Runtime, issued: dict[str, str], person: Person, request_type: str = "access"
) -> str:
    """File the request and enter the code it was sent, each in its own transaction."""
    settings, sessions = runtime.settings, runtime.sessions
    with unit_of_work(sessions) as session:
        request_id = flows.submit(session, settings, form(person, request_type), client="bench").id
    with unit_of_work(sessions) as session:
        flows.verify(session, settings, request_id=request_id, code=issued.pop(request_id))
    return request_id


class Driver:
    """Runs one person's request end to end, timing and counting each phase."""

    def __init__(self, runtime: Runtime, counter: StatementCounter) -> None:
        self.runtime = runtime
        self.counter = counter
        self.issued = capture_codes()

    def request(self, person: Person) -> Record:
        """Submit, verify and execute one access request; the phases' seconds and statements."""
        settings, sessions = self.runtime.settings, self.runtime.sessions
        marks = [(time.perf_counter(), self.counter.snapshot())]
        with unit_of_work(sessions) as session:
            request_id = flows.submit(session, settings, form(person), client="bench").id
        marks.append((time.perf_counter(), self.counter.snapshot()))
        with unit_of_work(sessions) as session:
            flows.verify(session, settings, request_id=request_id, code=self.issued.pop(request_id))
        marks.append((time.perf_counter(), self.counter.snapshot()))
        status = run_request(sessions, settings, request_id)
        marks.append((time.perf_counter(), self.counter.snapshot()))
        if status != "completed":
            raise RuntimeError(f"request for {person.email} ended {status}")
        phases = ("submit", "verify", "execute")
        record: Record = {"email": person.email, "request_id": request_id}
        for name, (t0, c0), (t1, c1) in zip(phases, marks[:-1], marks[1:], strict=True):
            record[f"{name}_s"] = t1 - t0
            record[f"{name}_counts"] = delta(c0, c1)
        record["end_to_end_s"] = marks[-1][0] - marks[0][0]
        return record

    def run(
        self, people: list[Person], progress: Callable[[int], None] | None = None
    ) -> list[Record]:
        """One request per person, one after another."""
        records = []
        for n, person in enumerate(people, 1):
            records.append(self.request(person))
            if progress and n % 100 == 0:
                progress(n)
        return records
