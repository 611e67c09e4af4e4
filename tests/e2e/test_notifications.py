"""Notifications through Envoy, on the whole suite (issue 14, part 2).

- An unlock (billing's UnlockCreated, consumed by `notification.unlocks`) shows in the app of every member
  of the unlocked page, unread count 1; marking it read brings the count to 0; each member is mailed
  (`MailRequested` on `mail.exchange.direct`, template `notification_unlock_received`).
- A member who turns the unlocks' mail off (`PATCH users/me/notificationPreferences`) still sees the next
  unlock in the app, and gets no mail for it; the other member does.
- Two matches (matching's MatchFound) show one by one in the app, and the digest job mails one mail listing
  both once the day's digest time passed (the notification service's clock is moved on a day).
- Nobody reaches another user's notifications.

The notification service learns who the members of a page are from the page services' member events (queue
`notification.pages`); the unlock and the matches come by other queues, so the tests wait for the members
to be known first (reading the projection), as a user would simply see them a moment later.
"""

from __future__ import annotations

import uuid

from .journeys import complete_company, criterion, inbox, investor_page, mails, members_known, ok, published_program
from .suite_stack import SuiteStack, create_company, join_company, status_of, unique

UNLOCKS = "?category=NOTIFICATION_CATEGORY_UNLOCKS"


def grant_and_unlock(stack: SuiteStack, investor: str, owner: str, company: str) -> None:
    staff = stack.token(unique("staff"), roles=("admin",))
    entry = {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": "5", "description": "e2e notifications"}
    ok(stack.call("POST", f"/v1/{investor}/ledgerEntries?requestId={uuid.uuid4().hex}", entry, staff))
    body = {"target": {"kind": "PAGE_KIND_COMPANY", "name": company}}
    ok(stack.call("POST", f"/v1/{investor}/unlocks?requestId={uuid.uuid4().hex}", body, owner))


def test_an_unlock_notifies_the_members_who_read_it_and_choose_their_mails(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    alice_subject, bob_subject = unique("notif-alice"), unique("notif-bob")
    alice = stack.token(alice_subject)
    company = create_company(stack, alice, displayName=f"Acme {alice_subject}")["name"]
    bob = join_company(stack, company, alice, bob_subject, "PAGE_ROLE_VIEWER")
    assert "notifications" not in ok(stack.call("GET", "/v1/users/me/notifications", token=alice))
    members_known(stack, company, 2)

    first = investor_page(stack, with_profile=False)
    grant_and_unlock(stack, first.name, first.owner, company)
    for token in (alice, bob):  # (Bob may also see his invitation, if his account was known in time)
        [notification] = inbox(stack, token, UNLOCKS, until=1)["notifications"]
        assert (notification["category"], notification["kind"]) == ("NOTIFICATION_CATEGORY_UNLOCKS", "unlock.received")
        assert notification["title"] == f"{first.display_name} unlocked Acme {alice_subject}"
        assert (notification["page"], notification["resource"]) == (company, first.name)
    assert inbox(stack, alice)["unreadCount"] == 1
    for subject in (alice_subject, bob_subject):
        [mail] = mails(stack, f"{subject}@example.com", "notification_unlock_received")
        assert (mail.locale, mail.variables["unlocker_display_name"]) == ("en", first.display_name)

    # Read: the count goes to 0 (marking again changes nothing).
    [notification] = inbox(stack, alice)["notifications"]
    read = ok(stack.call("POST", f"/v1/{notification['name']}:markRead", {}, alice))
    assert read["read"] is True and "readTime" in read
    assert ok(stack.call("POST", f"/v1/{notification['name']}:markRead", {}, alice))["readTime"] == read["readTime"]
    assert "unreadCount" not in inbox(stack, alice)  # 0: omitted in proto3 JSON
    assert len(inbox(stack, bob, f"{UNLOCKS}&unreadOnly=true")["notifications"]) == 1

    # Alice turns the unlocks' mail off; the next unlock still shows in her app, and mails Bob only.
    path = "/v1/users/me/notificationPreferences"
    assert ok(stack.call("GET", path, token=alice))["unlocks"] == {"inApp": True, "mail": True}
    changed = ok(stack.call("PATCH", f"{path}?updateMask=unlocks.mail", {"unlocks": {"mail": False}}, alice))
    assert changed["unlocks"] == {"inApp": True, "mail": False} and changed["matches"]["mail"] is True
    second = investor_page(stack, with_profile=False)
    grant_and_unlock(stack, second.name, second.owner, company)
    assert len(inbox(stack, alice, UNLOCKS, until=2)["notifications"]) == 2
    assert len(mails(stack, f"{bob_subject}@example.com", "notification_unlock_received", at_least=2)) == 2
    # Bob's second mail was written in the same transaction as Alice's would have been: she has none.
    assert len(mails(stack, f"{alice_subject}@example.com", "notification_unlock_received")) == 1
    all_read = ok(stack.call("POST", "/v1/users/me/notifications:markAllRead", {}, alice))
    assert (all_read["markedCount"], all_read.get("unreadCount", 0)) == (1, 0)

    # Nobody reaches another user's notifications.
    me = ok(stack.call("GET", "/v1/users/me", token=alice))["name"]
    for method, other in (("GET", f"/v1/{me}/notifications"), ("GET", f"/v1/{notification['name']}")):
        assert status_of(stack.call(method, other, token=bob)) == (403, 7, "NOT_YOUR_USER")


def test_the_digest_mails_one_mail_for_two_matches(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    program, investor = published_program(stack), investor_page(stack)
    carol_subject = unique("notif-carol")
    carol, email = stack.token(carol_subject), f"{carol_subject}@example.com"
    display_name = f"Acme Fintech {uuid.uuid4().hex[:6]}"
    fintech = {"industries": ["fintech", "retail"], "solutionCategories": ["ai_ml"]}
    body = complete_company(display_name, f"hq@{carol_subject}.example") | fintech
    company = create_company(stack, carol, **body)["name"]
    members_known(stack, company, 1)
    profile = {"criteria": [criterion("FUNDING_STAGE", "seed")]}
    ok(stack.call("PATCH", f"/v1/{company}/criteriaProfile", profile, carol))  # the program and the investor match

    query = "?category=NOTIFICATION_CATEGORY_MATCHES"
    listed = inbox(stack, carol, query, until=2)["notifications"]
    assert sorted(n["resource"] for n in listed) == sorted([program.name, investor.name]), listed
    assert {n["kind"] for n in listed} == {"match.found"}
    assert stack.notification.app.digests.run() == 0  # found after the latest digest time: not yet

    stack.notification_clock.advance(days=1)
    assert stack.notification.app.digests.run() >= 1
    [digest] = mails(stack, email, "notification_match_digest")
    assert (digest.variables["match_count"], digest.variables["period"]) == ("2", "daily")
    for page in (program, investor):
        assert page.display_name in digest.variables["matches"]
    stack.notification.app.digests.run()  # the same period again: nothing more for Carol
    assert len(mails(stack, email, "notification_match_digest")) == 1
