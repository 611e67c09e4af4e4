"""Contact requests through the edge, with the whole suite on PostgreSQL, Redis and RabbitMQ.

An investor buys credits (the local provider's signed callback through Envoy) and unlocks an ISV; the
contact service learns of the unlock from billing's event and lets the investor send the ISV a request.
The ISV sees it (and who unlocked it), accepts it naming its own contact person; both sides then see each
other's contact person and exchange messages, paginated, with read marks. Abuse is refused with clear
errors: a page not unlocked, a blocked pair, an oversized message, and a request over the daily rate. The
events the notification service and Odoo consume are read back from their queues.
"""

from __future__ import annotations

import time
import uuid

from devinsider.contact.v1 import events_pb2 as contact_events
from devinsider_common.mail.rendering import default_renderer
from devinsider_common.outbox import topology
from devinsider_gateway.testing.http import Response

from .journeys import complete_company, inbox, investor_journey, mails, members_known, ok
from .suite_stack import (
    CONTACT_REQUESTS_PER_DAY,
    EVENTUALLY_SECONDS,
    EdgeStack,
    SuiteStack,
    create_company,
    field_violations,
    status_of,
    unique,
)

INCOMING = "direction=CONTACT_REQUEST_DIRECTION_INCOMING"
OUTGOING = "direction=CONTACT_REQUEST_DIRECTION_OUTGOING"


def user_of(stack: EdgeStack, token: str) -> str:
    """The caller's `users/{id}` (the user service creates it on a first visit)."""
    return str(ok(stack.call("GET", "/v1/users/me", token=token))["name"])


def send(stack: EdgeStack, sender: str, target: str, contact: str, token: str, message: str = "") -> Response:
    body = {
        "target": {"name": target},
        "message": message or "Hello! We back B2B analytics at series A and would like to talk.",
        "senderContact": {"user": contact},
    }
    return stack.call("POST", f"/v1/{sender}/contactRequests?requestId={uuid.uuid4().hex}", body, token)


def send_once_unlocked(stack: EdgeStack, sender: str, target: str, contact: str, token: str) -> Response:
    """The answer to a request once the contact service has consumed billing's UnlockCreated (polled while
    it answers CONTACT_REQUIRES_UNLOCK)."""
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        response = send(stack, sender, target, contact, token)
        if status_of(response)[2] != "CONTACT_REQUIRES_UNLOCK" or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def unlock(stack: EdgeStack, spender: str, target: str, token: str) -> None:
    body = {"target": {"kind": "PAGE_KIND_COMPANY", "name": target}}
    ok(stack.call("POST", f"/v1/{spender}/unlocks?requestId={uuid.uuid4().hex}", body, token))


def isv(stack: EdgeStack, name: str) -> tuple[str, str, str]:
    """A new ISV page, its owner's token and its contact e-mail."""
    owner, email = stack.token(unique("isv-owner")), f"hq@{unique('isv')}.example"
    company = create_company(stack, owner, **complete_company(name, email))
    return str(company["name"]), owner, email


def test_an_investor_contacts_an_isv_it_unlocked_and_they_talk(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    company, isv_owner, email = isv(stack, "Contact Analytics")
    journey = investor_journey(stack, company, email)
    investor = journey.investor
    victor, alice = user_of(stack, investor.owner), user_of(stack, isv_owner)

    # The investor sends the ISV a request, naming its owner as contact person (once the notification
    # service knows who is a member of the ISV's page, so that it can tell them).
    members_known(stack, company, 1)
    sent = ok(send_once_unlocked(stack, investor.name, company, victor, investor.owner))
    request = sent["name"]
    assert request.startswith(f"{investor.name}/contactRequests/")
    assert (sent["state"], sent["senderContact"]["user"], sent["target"]["name"]) == (
        "CONTACT_REQUEST_STATE_PENDING",
        victor,
        company,
    )
    assert sent["targetDisplayName"] == "Contact Analytics"

    # The ISV sees it in its incoming list, without the contact person yet, and who unlocked it.
    incoming = ok(stack.call("GET", f"/v1/{company}/contactRequests?{INCOMING}", token=isv_owner))
    assert [(r["name"], r["senderDisplayName"]) for r in incoming["contactRequests"]] == [
        (request, investor.display_name)
    ]
    assert "senderContact" not in incoming["contactRequests"][0]
    unlockers = ok(stack.call("GET", f"/v1/{company}/pageUnlocks", token=isv_owner))["pageUnlocks"]
    assert [(u["unlocker"]["name"], u["unlock"]) for u in unlockers] == [(investor.name, journey.unlock)]
    # ... and is told, in the app and by a mail the sink can render (the notification service, from the
    # contact service's event).
    told = inbox(stack, isv_owner, "?category=NOTIFICATION_CATEGORY_CONTACT", until=1)["notifications"]
    assert len(told) == 1 and not told[0].get("read"), told  # unread (a false field is left out)
    isv_email = str(ok(stack.call("GET", "/v1/users/me", token=isv_owner))["email"])
    [mail] = mails(stack, isv_email, "notification_contact_request_received")
    rendered = default_renderer().render(mail.template, mail.locale, mail.variables, mail.to_name)
    assert investor.display_name in rendered.text and investor.display_name in rendered.html
    outsider = stack.token(unique("outsider"))
    refused = stack.call("GET", f"/v1/{request}", token=outsider)
    assert status_of(refused) == (403, 7, "PAGE_PERMISSION_DENIED"), refused.body

    # It accepts, naming its owner: both sides see both contact persons and share a conversation.
    accepted = ok(stack.call("POST", f"/v1/{request}:accept", {"contactPerson": alice}, isv_owner))
    assert accepted["state"] == "CONTACT_REQUEST_STATE_ACCEPTED"
    for token in (investor.owner, isv_owner):
        seen = ok(stack.call("GET", f"/v1/{request}", token=token))
        assert (seen["senderContact"]["user"], seen["targetContact"]["user"]) == (victor, alice), seen
        assert seen["senderContact"]["email"] and seen["targetContact"]["email"], seen
    conversation = accepted["conversation"]
    listed = ok(stack.call("GET", f"/v1/{investor.name}/conversations", token=investor.owner))["conversations"]
    assert [c["name"] for c in listed] == [conversation]

    # They talk: three messages one way, one back; pages of two, newest first; read marks per user.
    for n in range(1, 4):
        ok(stack.call("POST", f"/v1/{conversation}/messages", {"text": f"Message {n}"}, investor.owner))
    reply = ok(stack.call("POST", f"/v1/{conversation}/messages", {"text": "Happy to talk."}, isv_owner))
    assert (reply["sequence"], reply["authorPage"]["name"]) == ("4", company), reply
    messages = f"/v1/{conversation}/messages"
    for query in ("pageSize=-1", "pageToken=not-a-token"):  # paging refused as in every List (edge hardening)
        assert stack.call("GET", f"{messages}?{query}", token=isv_owner).status == 400, query
    huge = ok(stack.call("GET", f"{messages}?pageSize=100000", token=isv_owner))
    assert len(huge["messages"]) == 4
    first = ok(stack.call("GET", f"/v1/{conversation}/messages?pageSize=2", token=isv_owner))
    assert [m["text"] for m in first["messages"]] == ["Happy to talk.", "Message 3"]
    rest = ok(
        stack.call("GET", f"/v1/{conversation}/messages?pageSize=2&pageToken={first['nextPageToken']}", token=isv_owner)
    )
    assert [m["text"] for m in rest["messages"]] == ["Message 2", "Message 1"] and "nextPageToken" not in rest
    assert ok(stack.call("GET", f"/v1/{conversation}", token=investor.owner))["unreadCount"] == "1"
    isv_view = ok(stack.call("GET", f"/v1/{conversation}", token=isv_owner))
    assert (isv_view["messageCount"], isv_view.get("unreadCount", "0")) == ("4", "0")  # replying read them
    marked = ok(stack.call("POST", f"/v1/{conversation}:markRead", {"lastReadMessage": reply["name"]}, investor.owner))
    assert "unreadCount" not in marked and marked["lastReadMessage"] == reply["name"], marked

    # What the notification service and Odoo consume.
    events = stack.broker.events_about(
        topology.CONTACT_QUEUE,
        request,
        ["devinsider.contact.v1.ContactRequestCreated", "devinsider.contact.v1.ContactRequestAccepted"],
    )
    created = next(e for e in events if e.amqp_type.endswith("Created")).payload(contact_events.ContactRequestCreated)
    assert created.recipient.name == company and created.message_excerpt.startswith("Hello!")
    assert not created.contact_request.HasField("sender_contact")
    posted = stack.broker.events_about(
        topology.CONTACT_QUEUE, conversation, ["devinsider.contact.v1.ContactMessageCreated"] * 4
    )
    to_isv = posted[0].payload(contact_events.ContactMessageCreated)
    assert (to_isv.recipient.name, to_isv.recipient_contact.user) == (company, alice)
    odoo = stack.broker.events_about(
        topology.DIRECT_QUEUES[topology.ODOO_CONTACT_REQUEST],
        company,
        ["devinsider.contact.v1.PageContactCounters"] * 2,
    )
    counters = [e.payload(contact_events.PageContactCounters) for e in odoo]
    assert (counters[-1].contact_requests_received, counters[-1].contact_requests_accepted) == (1, 1)


def test_abuse_is_refused_with_clear_errors(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    first, _, email = isv(stack, "First Target")
    journey = investor_journey(stack, first, email)
    investor = journey.investor
    victor = user_of(stack, investor.owner)
    targets = [isv(stack, f"Target {n}") for n in range(2, 5)]
    blocking, blocking_owner, _ = isv(stack, "Blocking Co")
    never_unlocked = isv(stack, "Never Unlocked")[0]
    for company in [*(t[0] for t in targets), blocking]:
        unlock(stack, investor.name, company, investor.owner)

    # Without an unlock, no request: the error says what to do.
    refused = send(stack, investor.name, never_unlocked, victor, investor.owner)
    assert status_of(refused) == (400, 9, "CONTACT_REQUIRES_UNLOCK"), refused.body
    assert "unlock" in refused.json()["message"]

    # A pair blocked in matching (after the unlock) is refused.
    block = {"page": {"kind": "PAGE_KIND_INVESTOR", "name": investor.name}, "reason": "not interested"}
    ok(stack.call("POST", f"/v1/{blocking}/blocks", block, blocking_owner))
    blocked = send_once_unlocked(stack, investor.name, blocking, victor, investor.owner)
    assert status_of(blocked) == (400, 9, "BLOCKED"), blocked.body

    # Sizes are field violations.
    oversized = send(stack, investor.name, targets[0][0], victor, investor.owner, message="x" * 2001)
    assert status_of(oversized)[:2] == (400, 3) and field_violations(oversized) == ["contact_request.message"]

    # The daily rate: the first ones go out (the unlocks of the journey and above were consumed by now or soon).
    ok(send_once_unlocked(stack, investor.name, first, victor, investor.owner))
    for company, *_ in targets[: CONTACT_REQUESTS_PER_DAY - 1]:
        ok(send_once_unlocked(stack, investor.name, company, victor, investor.owner))
    over = send_once_unlocked(stack, investor.name, targets[-1][0], victor, investor.owner)
    assert status_of(over) == (429, 8, "CONTACT_REQUESTS_RATE_LIMITED"), over.body
    assert f"at most {CONTACT_REQUESTS_PER_DAY} contact requests per 24 hours" in over.json()["message"]
    retry = [d for d in over.json()["details"] if d["@type"].endswith("google.rpc.RetryInfo")]
    assert retry and retry[0]["retryDelay"].endswith("s"), over.body
    outgoing = ok(stack.call("GET", f"/v1/{investor.name}/contactRequests?{OUTGOING}", token=investor.owner))
    assert len(outgoing["contactRequests"]) == CONTACT_REQUESTS_PER_DAY
