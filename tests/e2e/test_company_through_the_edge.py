"""REST/JSON through Envoy to the real company service (PostgreSQL, Redis, RabbitMQ): pages, views,
update masks, invitations with the mailed token, members, the last owner, soft delete, Odoo events."""

from __future__ import annotations

from devinsider.company.v1 import events_pb2
from devinsider_common.outbox import topology

from .suite_stack import SuiteStack, create_company, field_violations, join_company, status_of, unique

ODOO_COMPANY_QUEUE = topology.DIRECT_QUEUES[topology.ODOO_COMPANY]


def test_an_isv_creates_a_page_members_see_contacts_the_public_does_not(suite_stack: SuiteStack) -> None:
    owner = suite_stack.token(unique("isv-alice"))
    created = create_company(
        suite_stack,
        owner,
        displayName="Acme Analytics",
        websiteUrl="https://acme.example",
        hqCountryCode="FR",
        foundingYear=2015,
        contact={"email": "hq@acme.example", "phoneNumber": "+33612345678"},
    )
    assert created["name"].startswith("companies/")
    assert (created["state"], created["viewerRole"], created["viewerHasFullAccess"]) == (
        "COMPANY_STATE_ACTIVE",
        "PAGE_ROLE_OWNER",
        True,
    )
    assert created["foundingYear"] == 2015 and created["createTime"].endswith("Z")

    public = suite_stack.call("GET", f"/v1/{created['name']}")  # GetCompany is public: no token
    assert public.status == 200, public.body
    view = public.json()
    assert view["displayName"] == "Acme Analytics" and view["hqCountryCode"] == "FR"
    assert "contact" not in view and "viewerHasFullAccess" not in view and "viewerRole" not in view

    stranger = suite_stack.call("GET", f"/v1/{created['name']}", token=suite_stack.token(unique("isv-mallory")))
    assert stranger.status == 200 and "contact" not in stranger.json()

    member = suite_stack.call("GET", f"/v1/{created['name']}", token=owner).json()
    assert member["contact"] == {"email": "hq@acme.example", "phoneNumber": "+33612345678"}
    assert member["viewerHasFullAccess"] is True and member["viewerRole"] == "PAGE_ROLE_OWNER"


def test_update_with_a_mask_and_bad_fields_named_in_a_google_rpc_status(suite_stack: SuiteStack) -> None:
    owner = suite_stack.token(unique("isv-bob"))
    name = create_company(suite_stack, owner, displayName="Bobcat Software")["name"]

    body = {"tagline": "Observability for factories", "foundingYear": 2019, "description": "not in the mask"}
    updated = suite_stack.call("PATCH", f"/v1/{name}?updateMask=tagline,foundingYear", body, owner)
    assert updated.status == 200, updated.body
    company = updated.json()
    assert (company["tagline"], company["foundingYear"]) == ("Observability for factories", 2019)
    assert "description" not in company
    again = suite_stack.call("GET", f"/v1/{name}").json()
    assert again["tagline"] == "Observability for factories" and "description" not in again

    bad = {"websiteUrl": "not a url", "hqCountryCode": "XYZ"}
    refused = suite_stack.call("PATCH", f"/v1/{name}?updateMask=websiteUrl,hqCountryCode", bad, owner)
    assert status_of(refused)[:2] == (400, 3), refused.body
    assert sorted(field_violations(refused)) == ["company.hq_country_code", "company.website_url"]
    unchanged = suite_stack.call("GET", f"/v1/{name}").json()
    assert "websiteUrl" not in unchanged and "hqCountryCode" not in unchanged

    unknown = suite_stack.call("PATCH", f"/v1/{name}?updateMask=noSuchField", {"tagline": "x"}, owner)
    assert unknown.status == 400 and unknown.json()["code"] == 3, unknown.body

    editor_of_nothing = suite_stack.token(unique("isv-eve"))
    foreign = suite_stack.call("PATCH", f"/v1/{name}?updateMask=tagline", {"tagline": "hijacked"}, editor_of_nothing)
    assert status_of(foreign)[:2] == (403, 7), foreign.body


def test_a_colleague_joins_through_the_mailed_token_and_members_are_private(suite_stack: SuiteStack) -> None:
    owner_subject, colleague_subject = unique("isv-carol"), unique("isv-dan")
    owner = suite_stack.token(owner_subject)
    me = suite_stack.call("GET", "/v1/users/me", token=owner)  # the owner has a user; the colleague not yet
    assert me.status == 200, me.body
    name = create_company(suite_stack, owner, displayName="Carol Cloud")["name"]

    email = f"{colleague_subject}@example.com"
    invitation = suite_stack.call(
        "POST", f"/v1/{name}/invitations", {"email": email, "role": "PAGE_ROLE_EDITOR", "message": "Join us"}, owner
    )
    assert invitation.status == 200, invitation.body
    sent = invitation.json()
    assert sent["name"].startswith(f"{name}/invitations/")
    assert (sent["email"], sent["role"], sent["state"]) == (email, "PAGE_ROLE_EDITOR", "INVITATION_STATE_PENDING")
    assert "token" not in sent  # the one-time token only travels in the mail
    assert sent["inviter"] == me.json()["name"]  # the user service's users/{id}, not the Keycloak subject

    (mail,) = suite_stack.broker.mails_to(email, "company_invitation")
    assert (mail.variables["role"], mail.variables["message"], mail.variables["page_display_name"]) == (
        "editor",
        "Join us",
        "Carol Cloud",
    )
    invitation_name, one_time = suite_stack.broker.invitation_token(email, "company_invitation")
    assert invitation_name == sent["name"] and len(one_time) >= 32

    colleague = suite_stack.token(colleague_subject, email=email)
    wrong_person = suite_stack.token(unique("isv-oscar"))
    refused = suite_stack.call("POST", f"/v1/{invitation_name}:accept", {"token": one_time}, wrong_person)
    assert status_of(refused)[:2] == (403, 7), refused.body
    anonymous = suite_stack.call("POST", f"/v1/{invitation_name}:accept", {"token": one_time})
    assert anonymous.status == 401 and anonymous.json()["code"] == 16

    accepted = suite_stack.call("POST", f"/v1/{invitation_name}:accept", {"token": one_time}, colleague)
    assert accepted.status == 200, accepted.body
    joined = accepted.json()
    assert joined["state"] == "INVITATION_STATE_ACCEPTED"
    # Joining gave the colleague a user (created from the token, as a first visit would): the member is named by it.
    colleague_user = suite_stack.call("GET", "/v1/users/me", token=colleague).json()["name"]
    assert joined["member"] == f"{name}/members/{colleague_user.removeprefix('users/')}"
    replay = suite_stack.call("POST", f"/v1/{invitation_name}:accept", {"token": one_time}, colleague)
    assert status_of(replay)[:2] == (400, 9), replay.body  # FAILED_PRECONDITION: no longer pending

    members = suite_stack.call("GET", f"/v1/{name}/members", token=colleague)
    assert members.status == 200, members.body
    assert [(m["subject"], m["role"], m.get("user", "")) for m in members.json()["members"]] == [
        (owner_subject, "PAGE_ROLE_OWNER", me.json()["name"]),  # the user service's users/{id}
        (colleague_subject, "PAGE_ROLE_EDITOR", colleague_user),
    ]
    assert suite_stack.call("GET", f"/v1/{name}", token=colleague).json()["viewerRole"] == "PAGE_ROLE_EDITOR"

    stranger = suite_stack.call("GET", f"/v1/{name}/members", token=suite_stack.token(unique("isv-trudy")))
    assert status_of(stranger)[:2] == (403, 7), stranger.body
    assert suite_stack.call("GET", f"/v1/{name}/members").status == 401

    last_owner = suite_stack.call("POST", f"/v1/{name}:leave", {}, owner)
    assert status_of(last_owner) == (400, 9, "LAST_OWNER"), last_owner.body
    still = suite_stack.call("GET", f"/v1/{name}/members", token=owner).json()["members"]
    assert [m["subject"] for m in still] == [owner_subject, colleague_subject]


def test_soft_delete_hides_the_page_and_every_change_reaches_odoo(suite_stack: SuiteStack) -> None:
    owner_subject, colleague_subject = unique("isv-erin"), unique("isv-frank")
    owner = suite_stack.token(owner_subject)
    created = create_company(suite_stack, owner, displayName="Erin Robotics")
    name = created["name"]
    patched = suite_stack.call("PATCH", f"/v1/{name}?updateMask=tagline", {"tagline": "Robots that ship"}, owner)
    assert patched.status == 200, patched.body
    colleague = join_company(suite_stack, name, owner, colleague_subject, "PAGE_ROLE_EDITOR")

    not_owner = suite_stack.call("DELETE", f"/v1/{name}", token=colleague)
    assert status_of(not_owner)[:2] == (403, 7), not_owner.body
    deleted = suite_stack.call("DELETE", f"/v1/{name}", token=owner)
    assert (deleted.status, deleted.json()) == (200, {}), deleted.body

    for token in (None, owner, colleague):
        gone = suite_stack.call("GET", f"/v1/{name}", token=token)
        assert status_of(gone)[:2] == (404, 5), gone.body
    listed = suite_stack.call("GET", "/v1/companies?query=Erin%20Robotics").json()
    assert name not in [c["name"] for c in listed.get("companies", [])]

    expected = [
        "devinsider.company.v1.CompanyCreated",
        "devinsider.company.v1.MemberAdded",
        "devinsider.company.v1.CompanyUpdated",
        "devinsider.company.v1.InvitationSent",
        "devinsider.company.v1.MemberAdded",
        "devinsider.company.v1.InvitationChanged",
        "devinsider.company.v1.MemberRemoved",
        "devinsider.company.v1.MemberRemoved",
        "devinsider.company.v1.CompanyDeleted",
    ]
    events = suite_stack.broker.events_about(ODOO_COMPANY_QUEUE, name, expected)
    assert [e.amqp_type for e in events] == expected  # one relay: in commit order
    for event in events:
        assert event.amqp_type == event.envelope.event_type
        assert event.properties.message_id == event.envelope.event_id and event.properties.delivery_mode == 2
        assert event.envelope.source == "company"
    by_type = {e.amqp_type: e for e in events}
    first = by_type["devinsider.company.v1.CompanyCreated"]
    assert first.envelope.external_id == name
    assert first.payload(events_pb2.CompanyCreated).company.display_name == "Erin Robotics"
    added = [e.payload(events_pb2.MemberAdded).member.subject for e in events if e.amqp_type.endswith("MemberAdded")]
    assert sorted(added) == sorted([owner_subject, colleague_subject])
    deleter = by_type["devinsider.company.v1.CompanyDeleted"].payload(events_pb2.CompanyDeleted).deleter
    assert deleter == suite_stack.call("GET", "/v1/users/me", token=owner).json()["name"]  # users/{id} (events.proto)
    removed = [e.payload(events_pb2.MemberRemoved) for e in events if e.amqp_type.endswith("MemberRemoved")]
    assert {r.reason for r in removed} == {events_pb2.MEMBER_REMOVAL_REASON_PAGE_DELETED}
