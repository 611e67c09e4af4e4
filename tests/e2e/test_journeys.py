"""End-to-end journeys through Envoy with all six services on real PostgreSQL, Redis and RabbitMQ.

1. An ISV registers (signed Keycloak webhook), builds its company page, brings a colleague in with
   the mailed token, sets its criteria profile, finds a program and an investor, and applies.
2. An investor buys credits (checkout, then the provider's signed callback through the edge; the
   balance moves only then), unlocks the ISV and sees its contacts, which it did not before.
3. Both journeys together, and every event they owe read back from its queue and decoded.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1 import events_pb2 as billing_events
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import events_pb2 as company_events
from devinsider.investor.v1 import events_pb2 as investor_events
from devinsider.matching.v1 import events_pb2 as matching_events
from devinsider.program.v1 import events_pb2 as program_events
from devinsider.program.v1 import program_pb2
from devinsider.user.v1 import events_pb2 as user_events
from devinsider_common.outbox import topology

from .journeys import CREDIT_PACK, complete_company, investor_journey, isv_journey, ok
from .suite_stack import Event, SuiteStack, create_company, unique

QUEUES = topology.DIRECT_QUEUES
ODOO_COMPANY, ODOO_INVESTOR = QUEUES[topology.ODOO_COMPANY], QUEUES[topology.ODOO_INVESTOR]
ODOO_PROGRAM, ODOO_PROGRAM_MEMBER = QUEUES[topology.ODOO_PROGRAM], QUEUES[topology.ODOO_PROGRAM_MEMBER]
MATCHING, BILLING = QUEUES[topology.MATCHING], QUEUES[topology.BILLING]


def test_an_isv_registers_builds_its_page_finds_matches_and_applies(suite_stack: SuiteStack) -> None:
    journey = isv_journey(suite_stack)

    # What the journey left, as each party sees it afterwards.
    me = ok(suite_stack.call("GET", "/v1/users/me", token=journey.owner))
    assert (me["name"], me["email"], me["roles"]) == (journey.user, journey.email, ["isv"])
    public = ok(suite_stack.call("GET", f"/v1/{journey.company}"))
    assert public["displayName"] == journey.company_display_name and "contact" not in public
    program = journey.program
    applications = ok(suite_stack.call("GET", f"/v1/{program.name}/applications", token=program.owner))
    assert [(a["name"], a["state"]) for a in applications["applications"]] == [
        (journey.application, "APPLICATION_STATE_PENDING")
    ]
    investor = journey.investor
    found = ok(suite_stack.call("GET", f"/v1/{investor.name}/matches", token=investor.owner)).get("matches", [])
    assert (journey.company, 75.0) in [(m["summary"]["page"]["name"], m["score"]) for m in found], found


def test_an_investor_buys_credits_and_unlocks_an_isv_to_see_its_contacts(suite_stack: SuiteStack) -> None:
    contact = f"hq@{unique('isv')}.example"
    owner = suite_stack.token(unique("isv-carol"))
    company = create_company(suite_stack, owner, **complete_company("Carol Cloud", contact))["name"]

    journey = investor_journey(suite_stack, company, contact)

    investor = journey.investor
    invoices = ok(suite_stack.call("GET", f"/v1/{investor.name}/invoices", token=investor.owner))["invoices"]
    assert [(i["name"], i["state"], i["total"]["amountMinor"], i["checkout"]) for i in invoices] == [
        (journey.invoice, "INVOICE_STATE_PAID", "7500", journey.checkout)
    ]
    unlocks = ok(suite_stack.call("GET", f"/v1/{investor.name}/unlocks", token=investor.owner))["unlocks"]
    assert [(u["name"], u["target"]["name"]) for u in unlocks] == [(journey.unlock, company)]
    # The ISV's own page did not pay: its balance is untouched, and the unlock is the investor's.
    assert "balance" not in ok(suite_stack.call("GET", f"/v1/{company}/creditBalance", token=owner))


def _types(events: list[Event]) -> list[str]:
    return [event.amqp_type for event in events]


def _well_formed(events: list[Event], source: str) -> None:
    for event in events:
        envelope = event.envelope
        assert envelope.event_type == event.amqp_type and envelope.source == source, envelope
        assert event.properties.message_id == envelope.event_id and envelope.schema_version >= 1
        assert envelope.payload.type_url.endswith("/" + envelope.event_type)


def test_every_event_of_both_journeys_arrives_decoded_on_its_queue(suite_stack: SuiteStack) -> None:
    isv = isv_journey(suite_stack)
    buyer = investor_journey(suite_stack, isv.company, isv.contact_email)
    broker = suite_stack.broker

    # User: created by the Keycloak webhook (no roles), then the first token brought the isv role.
    users = broker.events_about(
        topology.ODOO_USER_QUEUE, isv.user, ["devinsider.user.v1.UserCreated", "devinsider.user.v1.UserUpdated"]
    )
    assert _types(users) == ["devinsider.user.v1.UserCreated", "devinsider.user.v1.UserUpdated"]
    _well_formed(users, "user")
    created_user = users[0].payload(user_events.UserCreated).user
    assert (created_user.subject, created_user.email, created_user.given_name, list(created_user.roles)) == (
        isv.subject,
        isv.email,
        "Alice",
        [],
    )
    roles = users[1].payload(user_events.UserUpdated)
    assert (list(roles.changed_fields), list(roles.user.roles)) == (["roles"], ["isv"])

    # Company (Odoo): the page, its owner, the invitation, the colleague who joined through it.
    expected = [
        "devinsider.company.v1.CompanyCreated",
        "devinsider.company.v1.MemberAdded",
        "devinsider.company.v1.InvitationSent",
        "devinsider.company.v1.MemberAdded",
        "devinsider.company.v1.InvitationChanged",
    ]
    company = broker.events_about(ODOO_COMPANY, isv.company, expected)
    assert sorted(_types(company)) == sorted(expected)
    _well_formed(company, "company")
    by_id = {e.envelope.external_id: e for e in company}
    page = by_id[isv.company].payload(company_events.CompanyCreated)
    assert (page.company.display_name, page.company.contact.email) == (isv.company_display_name, isv.contact_email)
    assert page.creator == isv.subject, page.creator  # the Keycloak subject (events.proto)
    assert page.company.completeness.program_matchmaking and page.company.financials.looking_for_funding
    added = [e.payload(company_events.MemberAdded) for e in company if e.amqp_type.endswith(".MemberAdded")]
    by_subject = {event.member.subject: event for event in added}  # members are named by their users/{id}
    joined = by_subject[isv.colleague_subject]
    assert (joined.member.role, joined.invitation) == (page_pb2.PAGE_ROLE_EDITOR, isv.invitation)
    founder = by_subject[isv.subject]
    assert (founder.member.role, founder.invitation) == (page_pb2.PAGE_ROLE_OWNER, "")
    assert founder.member.name == f"{isv.company}/members/{isv.user.removeprefix('users/')}"
    accepted = by_id[isv.invitation].payload(company_events.InvitationChanged)
    assert (accepted.previous_state, accepted.invitation.state) == (
        page_pb2.INVITATION_STATE_PENDING,
        page_pb2.INVITATION_STATE_ACCEPTED,
    )
    assert [e.amqp_type for e in company if e.envelope.external_id == isv.invitation] == [
        "devinsider.company.v1.InvitationSent",
        "devinsider.company.v1.InvitationChanged",
    ]

    # Program and investor pages (Odoo), and the application (Odoo's program members).
    program = broker.events_about(ODOO_PROGRAM, isv.program.name, ["devinsider.program.v1.ProgramCreated"])
    _well_formed(program, "program")
    assert program[0].payload(program_events.ProgramCreated).program.display_name == isv.program.display_name
    published = [
        e.payload(program_events.ProgramUpdated)
        for e in broker.events_about(ODOO_PROGRAM, isv.program.name, ["devinsider.program.v1.ProgramUpdated"])
        if e.amqp_type == "devinsider.program.v1.ProgramUpdated"
    ]
    assert any(u.program.state == program_pb2.PROGRAM_STATE_PUBLISHED for u in published), published
    applied = broker.events_about(ODOO_PROGRAM_MEMBER, isv.application, ["devinsider.program.v1.ApplicationCreated"])
    assert _types(applied) == ["devinsider.program.v1.ApplicationCreated"]
    _well_formed(applied, "program")
    application = applied[0].payload(program_events.ApplicationCreated).application
    assert (application.company, application.state) == (isv.company, program_pb2.APPLICATION_STATE_PENDING)
    assert application.applicant == isv.user, application.applicant
    for investor in (isv.investor, buyer.investor):
        pages = broker.events_about(ODOO_INVESTOR, investor.name, ["devinsider.investor.v1.InvestorCreated"])
        _well_formed(pages, "investor")
        created = [e for e in pages if e.amqp_type == "devinsider.investor.v1.InvestorCreated"]
        assert created[0].payload(investor_events.InvestorCreated).investor.display_name == investor.display_name

    # Matching: the three profiles, and one MatchFound per pair at or above the threshold (75).
    for owner_page in (isv.company, isv.program.name, isv.investor.name):
        profiles = broker.events_about(MATCHING, owner_page, ["devinsider.matching.v1.CriteriaProfileUpdated"])
        updated = [e for e in profiles if e.amqp_type == "devinsider.matching.v1.CriteriaProfileUpdated"]
        assert [e.envelope.external_id for e in updated] == [f"{owner_page}/criteriaProfile"]
        _well_formed(updated, "matching")
        assert updated[0].payload(matching_events.CriteriaProfileUpdated).criteria_profile.page.name == owner_page

    # (The earlier journeys' program and investor match this company too: only this journey's are looked at.)
    targets = {isv.program.name, isv.investor.name}

    def announced(event: Event) -> bool:
        if event.amqp_type != "devinsider.matching.v1.MatchFound":
            return False
        match = event.payload(matching_events.MatchFound)
        return bool(match.company == isv.company and match.target.name in targets)

    found = broker.wait_for(MATCHING, announced, lambda events: len(events) >= len(targets))
    _well_formed(found, "matching")
    pairs = sorted(
        (m.target.name, m.target_summary.display_name, m.company_summary.display_name, m.score)
        for m in (e.payload(matching_events.MatchFound) for e in found)
    )
    assert pairs == sorted(
        [
            (isv.program.name, isv.program.display_name, isv.company_display_name, 100.0),
            (isv.investor.name, isv.investor.display_name, isv.company_display_name, 75.0),
        ]
    )

    # Mails: the colleague's invitation, the program's notice of the application, the buyer's receipt.
    (invitation,) = broker.mails_to(f"{isv.colleague_subject}@example.com", "company_invitation")
    assert invitation.variables["page_display_name"] == isv.company_display_name
    assert parse_qs(urlparse(invitation.variables["accept_url"]).query)["invitation"] == [isv.invitation]
    notice = broker.mails_to(f"{isv.program.owner_subject}@example.com", "program_application_received")
    assert [m.variables["company_display_name"] for m in notice] == [isv.company_display_name]
    (receipt,) = broker.mails_to(buyer.buyer_email, "billing_receipt")
    assert receipt.variables["total"] == "75.00 EUR" and receipt.variables["number"]

    # Billing: the grant and the payment (only after the provider's callback), once each.
    money = ["devinsider.billing.v1.CreditsGranted", "devinsider.billing.v1.PaymentSucceeded"]
    billing = broker.events_about(BILLING, buyer.investor.name, money)
    assert sorted(_types(billing)) == sorted(money)  # the two redeliveries granted nothing more
    _well_formed(billing, "billing")
    kinds = {e.amqp_type: e for e in billing}
    granted = kinds["devinsider.billing.v1.CreditsGranted"].payload(billing_events.CreditsGranted)
    assert (granted.page.name, granted.ledger_entry.kind, granted.ledger_entry.credits, granted.balance) == (
        buyer.investor.name,
        billing_pb2.LEDGER_ENTRY_KIND_GRANT,
        10,
        10,
    )
    assert kinds["devinsider.billing.v1.CreditsGranted"].envelope.external_id == granted.ledger_entry.name
    payment = kinds["devinsider.billing.v1.PaymentSucceeded"].payload(billing_events.PaymentSucceeded)
    assert (payment.invoice.name, payment.checkout, payment.amount.amount_minor, payment.amount.currency_code) == (
        buyer.invoice,
        buyer.checkout,
        7500,
        "EUR",
    )
    assert [line.plan for line in payment.invoice.lines] == [CREDIT_PACK]

    # The unlock, on the fanout exchange's queue.
    unlocks = broker.events_about(topology.UNLOCK_QUEUE, buyer.unlock, ["devinsider.billing.v1.UnlockCreated"])
    assert _types(unlocks) == ["devinsider.billing.v1.UnlockCreated"]  # the repeated unlock published nothing
    _well_formed(unlocks, "billing")
    unlock = unlocks[0].payload(billing_events.UnlockCreated)
    assert (unlock.unlocker.name, unlock.unlock.target.name, unlock.unlock.cost, unlock.balance) == (
        buyer.investor.name,
        isv.company,
        1,
        9,
    )
