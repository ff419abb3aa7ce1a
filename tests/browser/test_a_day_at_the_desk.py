"""A privacy analyst's day at the desk, in Chromium, from the console alone (issue 10's "done
when"): a GDPR request from Ireland read from the privacy mailbox (a real Dovecot), a Texan's
web request, a Virginian agent's letter with the signed permission, denied, appealed and
decided by someone else, a parent's letter for a child, a complaint from the contact form, and
a phone call entered 50 days late whose overdue deadline shows in the console and is escalated
by e-mail. People act only where people act (the privacy center, their e-mail); every message
goes over the real SMTP test server. Screenshots go to /tmp, to look at."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rightful import laws
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from tests.browser.test_access_journey import (
    assert_accessible_basics,
    expect,
    heading,
    reference_on,
)
from tests.support.app import code_from, link_from
from tests.support.imap import HOST, Dovecot, dovecot
from tests.support.live import LiveRightful, serve_rightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["dovecot"]  # the real IMAP server fixture, used below
pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "rightful-desk-shots"  # to look at; never in the repo
APPROVER, APPROVER_PASSWORD = "ava.approver@lumen.example", "another correct horse battery"
SIOBHAN = "siobhan.murphy@example.ie"  # writes to the privacy mailbox from Ireland
DALLAS = "avery.quinn@example.com"  # asks on the web, now living in Texas
AGENT = "desk@helpers.example"  # an authorized agent for a Virginian
JORDAN = "jordan.lee@example.com"  # the Virginian
PARENT = "pat.quinn@example.com"  # a parent writing for their child
CASEY = "casey.complains@example.com"  # complains through the contact form
MORGAN = "morgan.late@example.com"  # called 50 days ago; entered today
REFERENCE = re.compile(r"\bR-[A-Z0-9]{8}\b")
ESCALATION_WITHIN_S = 150.0  # the worker's housekeeping runs once a minute


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot to look at (never in the repository)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def sign_in(page: Page, live: LiveRightful, email: str, password: str) -> None:
    page.goto(live.url("/admin/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text("Today")  # the morning view is the first page


def mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "privacy@lumen.example"
    msg["Subject"], msg["Message-ID"] = subject, message_id
    msg.set_content(body)
    return msg.as_bytes()


def due_dates(received_on: str, jurisdiction: str) -> tuple[str, str]:
    """The acknowledgement and response dates the law gives a request received that day
    (staff entry: midday UTC of the day received)."""
    moment = datetime.combine(datetime.fromisoformat(received_on).date(), time(12), tzinfo=UTC)
    return (
        laws.acknowledge_due(moment, jurisdiction).isoformat(),
        laws.respond_due(moment, jurisdiction).isoformat(),
    )


def facts(page: Page) -> str:
    """The page's main text, its whitespace (between a fact's name and value) made one space."""
    return " ".join(page.get_by_role("main").inner_text().split())


def open_request(page: Page, live: LiveRightful, reference: str) -> None:
    page.goto(live.url("/admin"))
    page.get_by_role("link", name=reference).click()
    expect(heading(page)).to_have_text(reference)


def record_letter(page: Page, live: LiveRightful, fields: dict[str, str], **files: bytes) -> str:
    """Staff enter a letter or call through Requests → Record a letter or call; its reference."""
    page.goto(live.url("/admin"))
    page.get_by_role("link", name="Record a letter or call").click()
    expect(heading(page)).to_have_text("Record a request")
    assert_accessible_basics(page)
    page.get_by_role("radio", name=fields.pop("channel"), exact=True).check()
    page.get_by_label("Date received").fill(fields.pop("received"))
    page.get_by_role("radio", name=fields.pop("who"), exact=True).check()
    for name, content in files.items():
        page.locator(f"#{name}").set_input_files(
            {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": content}
        )
    page.get_by_label("Request type").select_option(label=fields.pop("type"))
    page.get_by_label("State or country where the person lives").select_option(
        label=fields.pop("state")
    )
    page.get_by_role("radio", name=fields.pop("checked"), exact=True).check()
    for selector, value in fields.items():
        if value == "check":
            page.locator(selector).check()
        else:
            page.locator(selector).fill(value)
    shot(
        page, f"intake-{page.locator('input[name=requester_role]:checked').get_attribute('value')}"
    )
    page.get_by_role("button", name="Record the request").click()
    expect(page.locator(".title-line h1")).to_have_text(REFERENCE)
    return page.locator(".title-line h1").inner_text()


@pytest.fixture
def desk(tmp_path: Path, smtp_server: SmtpTestServer, dovecot: Dovecot) -> Iterator[LiveRightful]:
    """A live Rightful reading the privacy mailbox every second; an approver besides Olive."""
    with serve_rightful(
        tmp_path,
        smtp_server,
        mailbox_host=HOST,
        mailbox_port=dovecot.port,
        mailbox_user=dovecot.user,
        mailbox_password=dovecot.password,
        mailbox_ca_file=dovecot.ca_file,
        mailbox_poll_seconds=1,
        mailbox_claim_seconds=0,
    ) as live:
        with unit_of_work(live.runtime.sessions) as session:
            create_staff(
                session,
                email=APPROVER,
                name="Ava Approver",
                password=APPROVER_PASSWORD,
                actor=system_actor("test"),
                role="approver",
            )
        yield live


def test_a_day_of_mixed_work_runs_from_the_console_and_nothing_goes_overdue_silently(
    chromium_browser: Browser, desk: LiveRightful, smtp_server: SmtpTestServer, dovecot: Dovecot
) -> None:
    today = utcnow().date()
    officer_context = chromium_browser.new_context()
    approver_context = chromium_browser.new_context()
    people = chromium_browser.new_context()
    try:
        staff = officer_context.new_page()
        sign_in(staff, desk, desk.staff_email, desk.staff_password)

        # 1. A phone call taken 50 days ago, entered only now: its response is overdue, and
        #    the console and the approvers' e-mail say so.
        late_day = (today - timedelta(days=50)).isoformat()
        late = record_letter(
            staff,
            desk,
            {
                "channel": "Phone call",
                "received": late_day,
                "who": "The person themself",
                "type": "Know what kinds of information we collect and share",
                "state": "Texas",
                "checked": "Details matched against our records over the phone",
                "#name": "Morgan Late",
                "#email": MORGAN,
            },
        )
        ack_due, respond_due = due_dates(late_day, "US-TX")
        assert f"Respond by {respond_due} Acknowledge by {ack_due}" in facts(staff)
        overdue_by = (laws.local_date(utcnow(), "US-TX") - date.fromisoformat(respond_due)).days
        expect(staff.locator(".due-marks")).to_contain_text(
            f"Response overdue by {overdue_by} days"
        )
        staff.goto(desk.url("/admin"))
        staff.get_by_label("Deadlines").select_option(label="Overdue")
        staff.get_by_role("button", name="Filter").click()
        expect(staff.get_by_role("row", name=re.compile(late))).to_contain_text("overdue")
        shot(staff, "01-deadlines-overdue")

        # 2. The privacy mailbox: a GDPR access request from Ireland becomes a case; staff
        #    confirm its type and country, and the person gets the verification e-mail.
        dovecot.deliver(
            mail(
                f"Siobhán Murphy <{SIOBHAN}>",
                "Subject access request",
                "Under Article 15 GDPR, please send me a copy of the personal data you hold.",
                "<ie-1@example.ie>",
            )
        )
        ack = smtp_server.wait_for(SIOBHAN, subject_contains="We received your message")
        staff.goto(desk.url("/admin/cases"))
        staff.get_by_role("row", name=re.compile("E-mail")).get_by_role("link").click()
        expect(staff.get_by_role("main")).to_contain_text("Subject access request")
        expect(staff.get_by_role("main")).to_contain_text("Get a copy of my personal information")
        shot(staff, "02-mail-case")
        # She confirms from the acknowledgement's link, choosing Ireland: the GDPR asks for
        # proportionate checks, not a declaration under penalty of perjury, so none is asked.
        siobhan = people.new_page()
        siobhan.goto(link_from(ack, "/cases/confirm/"))
        siobhan.get_by_label("Get a copy of my personal information").check()
        # The page opens on California, whose law asks it: the text to sign is there to read.
        expect(siobhan.locator("blockquote.declaration")).to_contain_text(
            "under penalty of perjury under the laws of the State of California"
        )
        expect(siobhan.get_by_label("Type your full name to sign")).to_be_visible()
        shot(siobhan, "02b-case-confirm-california")
        siobhan.get_by_label("Where do you live?").select_option(label="Ireland")
        expect(siobhan.get_by_label("Type your full name to sign")).to_be_hidden()
        expect(siobhan.locator("blockquote.declaration")).to_be_hidden()
        siobhan.get_by_role("button", name="Confirm and send me a code").click()
        siobhan.get_by_label("6-digit code").fill(
            code_from(smtp_server.wait_for(SIOBHAN, subject_contains="privacy request"))
        )
        siobhan.get_by_role("button", name="Confirm").click()
        ireland = reference_on(siobhan)
        staff.reload()
        staff.get_by_role("link", name="Open the request").click()
        expect(heading(staff)).to_have_text(ireland)
        main = facts(staff)
        assert "Ireland (IE)" in main and "GDPR" in main, main
        received = re.search(r"Received (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", main)
        assert received, main
        moment = datetime.fromisoformat(received.group(1)).replace(tzinfo=UTC)
        assert f"Respond by {laws.respond_due(moment, 'IE').isoformat()}" in main, main
        shot(staff, "03-ireland-request")

        # 3. The web: a Texan asks on the privacy center and confirms with the e-mailed code;
        #    staff approve it from the queue and the answer goes out.
        person = people.new_page()
        person.goto(desk.url("/requests/new"))
        person.get_by_label("Know what kinds of information we collect and share").check()
        person.get_by_label("E-mail address").fill(DALLAS)
        person.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
        person.get_by_label("Phone number").fill("(415) 555-0134")
        person.get_by_label("ZIP code").fill("94107")
        person.get_by_label("State or country where you live").select_option(label="Texas")
        person.get_by_role("button", name="Send request").click()
        person.get_by_label("6-digit code").fill(
            code_from(smtp_server.wait_for(DALLAS, subject_contains="received"))
        )
        person.get_by_role("button", name="Confirm").click()
        texas = reference_on(person)
        open_request(staff, desk, texas)
        main = facts(staff)
        assert "Texas (US-TX)" in main and "TDPSA" in main, main
        shot(staff, "04-texas-request")
        staff.get_by_role("button", name="Approve and run").click()
        done = smtp_server.wait_for(DALLAS, subject_contains="is complete")
        assert texas in str(done["Subject"])

        # 4. The post: an authorized agent writes for a Virginian, with the signed permission.
        sent_on = (today - timedelta(days=3)).isoformat()
        virginia = record_letter(
            staff,
            desk,
            {
                "channel": "Letter",
                "received": sent_on,
                "who": "An authorized agent for the person",
                "type": "Know what kinds of information we collect and share",
                "state": "Virginia",
                "checked": "Signed letter compared with our records",
                "#requester_name": "Privacy Helpers LLC",
                "#requester_email": AGENT,
                "#name": "Jordan Lee",
                "#email": JORDAN,
            },
            letter=b"%PDF-1.4 the agent's letter",
            agent_permission=b"%PDF-1.4 signed by Jordan Lee",
        )
        main = facts(staff)
        assert "filed by an authorized agent" in main and "Virginia (US-VA)" in main, main
        _, va_due = due_dates(sent_on, "US-VA")
        assert f"Respond by {va_due}" in main, main
        expect(staff.get_by_role("main")).to_contain_text("Consumer's signed permission")
        shot(staff, "05-agent-letter")
        staff.get_by_role("button", name="Permission checked and valid").click()
        expect(staff.get_by_role("main")).to_contain_text(f"By {desk.staff_email}")
        smtp_server.wait_for(AGENT, subject_contains=virginia)  # acknowledged to the agent
        staff.get_by_label("Deny the request").fill(
            "We hold no account matching the details in the letter."
        )
        staff.get_by_role("button", name="Deny", exact=True).click()
        expect(staff.locator(".title-line .pill")).to_have_text("Denied")

        # The agent appeals from the denial's link...
        denial = smtp_server.wait_for(AGENT, subject_contains="About your privacy request")
        agent = people.new_page()
        agent.goto(link_from(denial, "/appeal/"))
        agent.get_by_label("Why do you disagree with our decision?").fill(
            "Jordan Lee has held an account under this address since 2021; please look again."
        )
        agent.get_by_role("button", name="Send my appeal").click()
        expect(agent.get_by_role("status")).to_contain_text("We received your appeal")
        smtp_server.wait_for(AGENT, subject_contains="We received your appeal")

        # ...the first decider is told someone else must decide, and an approver upholds it.
        staff.get_by_role("link", name="Appeals", exact=True).click()
        staff.get_by_role("link", name=f"{virginia} appeal").click()
        expect(staff.locator("#decide-title + p")).to_contain_text("someone else must decide")
        approver = approver_context.new_page()
        sign_in(approver, desk, APPROVER, APPROVER_PASSWORD)
        approver.get_by_role("link", name="Appeals", exact=True).click()
        approver.get_by_role("link", name=f"{virginia} appeal").click()
        approver.get_by_label("Upheld: the first decision stands").check()
        approver.get_by_label("The written outcome").fill(
            "We searched every system again and hold no account under these details."
        )
        shot(approver, "06-appeal-decision")
        approver.get_by_role("button", name="Decide the appeal").click()
        expect(approver.locator("#decide-title + p")).to_contain_text("This appeal is decided.")
        outcome = text_of(smtp_server.wait_for(AGENT, subject_contains="outcome of your appeal"))
        assert "Attorney General of Virginia" in outcome

        # The agent lost the status link: the lookup mails a fresh one to the agent's address,
        # and the status page shows the appeal's outcome.
        agent.goto(desk.url("/"))
        agent.get_by_role("link", name="Check on a request").click()
        agent.get_by_label("Request reference").fill(virginia)
        agent.get_by_label("E-mail address").fill(AGENT)
        agent.get_by_role("button", name="E-mail me a link").click()
        fresh = smtp_server.wait_for(AGENT, subject_contains="Your link to follow")
        agent.goto(link_from(fresh, "/status/"))
        expect(agent.get_by_role("main")).to_contain_text("Outcome: our first decision stands.")
        shot(agent, "07-agent-status-with-appeal")

        # 5. A parent writes for their child; staff check the relation and carry it out.
        child = record_letter(
            staff,
            desk,
            {
                "channel": "Letter",
                "received": today.isoformat(),
                "who": "A parent or guardian for their child",
                "type": "Know what kinds of information we collect and share",
                "state": "California",
                "checked": "Signed letter compared with our records",
                "#requester_name": "Pat Quinn",
                "#requester_email": PARENT,
                "#relation_attested": "check",
                "#name": "Robin Quinn",
                "#email": "robin.quinn@example.com",
            },
        )
        expect(staff.get_by_role("main")).to_contain_text("filed by a parent for a child")
        staff.get_by_role("button", name="Relation checked and valid").click()
        staff.get_by_role("button", name="Approve and run").click()
        assert child in str(smtp_server.wait_for(PARENT, subject_contains="is complete")["Subject"])

        # 6. A complaint through the contact form the home page links to, answered from the
        #    template and closed.
        person.goto(desk.url("/"))
        person.get_by_role("link", name="Write to our privacy team").click()
        person.get_by_label("A complaint").check()
        person.get_by_label("Your message").fill("Your app shared my location without asking.")
        person.get_by_label("E-mail address").fill(CASEY)
        person.get_by_role("button", name="Send").click()
        ack = smtp_server.wait_for(CASEY, subject_contains="We received your message")
        case_ref = re.search(r"\[(PC-[A-Z0-9-]+)\]", str(ack["Subject"]))
        assert case_ref, ack["Subject"]
        staff.get_by_role("link", name="Cases").click()
        staff.get_by_role("link", name=case_ref.group(1)).click()
        staff.get_by_label("Assign to").fill(desk.staff_email)
        staff.get_by_role("button", name="Assign").click()
        staff.get_by_label("Start the answer from a template").select_option(
            label="Outcome of a complaint"
        )
        staff.get_by_role("button", name="Use this template").click()
        staff.get_by_role("button", name="Send the answer").click()
        smtp_server.wait_for(CASEY, subject_contains="Re: your message to the privacy office")
        staff.get_by_label("Close with the outcome").select_option(label="Answered")
        staff.get_by_role("button", name="Close the case").click()
        expect(staff.get_by_role("main")).to_contain_text("Closed")
        shot(staff, "08-complaint-closed")

        # 7. Nothing overdue in silence: the approvers were e-mailed about the late call...
        escalation = smtp_server.wait_for(
            APPROVER, subject_contains="Overdue", timeout=ESCALATION_WITHIN_S
        )
        assert late in text_of(escalation)
        # ...and an approver answers it; the queue has nothing overdue left.
        open_request(approver, desk, late)
        approver.get_by_role("button", name="Approve and run").click()
        smtp_server.wait_for(MORGAN, subject_contains="is complete")
        approver.goto(desk.url("/admin?due=overdue"))
        expect(approver.get_by_role("main")).not_to_contain_text(late)
        shot(approver, "09-nothing-overdue")
    finally:
        for context in (officer_context, approver_context, people):
            context.close()
