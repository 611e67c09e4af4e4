"""REST/JSON through Envoy to the real program service, which asks the REAL company service (in the
same stack) whether the applying user may edit the applying company: drafts, publication, applications,
approval, and the odoo_program_member and mail events."""

from __future__ import annotations

import uuid

from devinsider.program.v1 import events_pb2, program_pb2
from devinsider_common.outbox import topology

from .suite_stack import SuiteStack, create_company, join_company, status_of, unique

ODOO_PROGRAM_MEMBER_QUEUE = topology.DIRECT_QUEUES[topology.ODOO_PROGRAM_MEMBER]


def test_a_draft_is_private_until_published_then_listed_publicly(suite_stack: SuiteStack) -> None:
    tag = f"zq{uuid.uuid4().hex[:8]}"
    admin = suite_stack.token(unique("prog-judy"), roles=("program",))
    body = {
        "displayName": f"Cloud Partners {tag}",
        "vendorName": "Contoso",
        "programType": "PROGRAM_TYPE_TECHNOLOGY",
        "benefits": ["Co-selling", "Azure credits"],
        "countryCodes": ["FR", "DE"],
    }
    isv = suite_stack.token(unique("isv-ken"))
    assert status_of(suite_stack.call("POST", "/v1/programs", body, isv))[:2] == (403, 7)  # isv: wrong role
    created = suite_stack.call("POST", "/v1/programs", body, admin)
    assert created.status == 200, created.body
    program = created.json()
    name = program["name"]
    assert (program["state"], program["viewerRole"], program["benefits"]) == (
        "PROGRAM_STATE_DRAFT",
        "PAGE_ROLE_OWNER",
        ["Co-selling", "Azure credits"],
    )

    listed = suite_stack.call("GET", f"/v1/programs?query={tag}")
    assert listed.status == 200 and "programs" not in listed.json(), listed.body
    assert status_of(suite_stack.call("GET", f"/v1/{name}"))[:2] == (404, 5)
    assert status_of(suite_stack.call("GET", f"/v1/{name}", token=isv))[:2] == (404, 5)
    assert suite_stack.call("GET", f"/v1/{name}", token=admin).json()["state"] == "PROGRAM_STATE_DRAFT"
    assert status_of(suite_stack.call("POST", f"/v1/{name}:publish", {}, isv))[:2] == (403, 7)

    published = suite_stack.call("POST", f"/v1/{name}:publish", {}, admin)
    assert published.status == 200, published.body
    assert published.json()["state"] == "PROGRAM_STATE_PUBLISHED" and published.json()["publishTime"].endswith("Z")
    again = suite_stack.call("POST", f"/v1/{name}:publish", {}, admin)
    assert status_of(again)[:2] == (400, 9), again.body  # FAILED_PRECONDITION: not a draft any more

    listed = suite_stack.call("GET", f"/v1/programs?query={tag}")
    assert [p["name"] for p in listed.json()["programs"]] == [name]
    public = suite_stack.call("GET", f"/v1/{name}").json()
    assert public["state"] == "PROGRAM_STATE_PUBLISHED" and "viewerRole" not in public


def test_an_isv_editor_applies_with_the_real_company_service_and_the_program_approves(
    suite_stack: SuiteStack,
) -> None:
    admin_subject = unique("prog-liam")
    admin = suite_stack.token(admin_subject, roles=("program",))
    body = {"displayName": "Marketplace Partners", "vendorName": "Fabrikam", "programType": "PROGRAM_TYPE_MARKETPLACE"}
    program = suite_stack.call("POST", "/v1/programs", body, admin).json()["name"]
    assert suite_stack.call("POST", f"/v1/{program}:publish", {}, admin).status == 200

    owner = suite_stack.token(unique("isv-mia"))
    company = create_company(suite_stack, owner, displayName="Mia Integrations")["name"]
    editor_subject, viewer_subject = unique("isv-noah"), unique("isv-olive")
    editor = join_company(suite_stack, company, owner, editor_subject, "PAGE_ROLE_EDITOR")
    viewer = join_company(suite_stack, company, owner, viewer_subject, "PAGE_ROLE_VIEWER")
    application = {"company": company, "message": "We ship on your marketplace"}

    # The company service answers CheckPageAccess: a viewer may not edit the company, a stranger neither.
    for refused_token in (viewer, suite_stack.token(unique("isv-pete")), admin):
        refused = suite_stack.call("POST", f"/v1/{program}/applications", application, refused_token)
        assert status_of(refused) == (403, 7, "PAGE_PERMISSION_DENIED"), refused.body

    applied = suite_stack.call("POST", f"/v1/{program}/applications", application, editor)
    assert applied.status == 200, applied.body
    pending = applied.json()
    assert pending["name"].startswith(f"{program}/applications/")
    assert (pending["state"], pending["company"], pending["companyDisplayName"]) == (
        "APPLICATION_STATE_PENDING",
        company,
        "Mia Integrations",  # read from the real company service
    )
    duplicate = suite_stack.call("POST", f"/v1/{program}/applications", application, owner)
    assert status_of(duplicate) == (409, 6, "APPLICATION_EXISTS"), duplicate.body  # ALREADY_EXISTS

    assert status_of(suite_stack.call("POST", f"/v1/{pending['name']}:approve", {}, editor))[:2] == (403, 7)
    approved = suite_stack.call("POST", f"/v1/{pending['name']}:approve", {}, admin)
    assert approved.status == 200, approved.body
    assert approved.json()["state"] == "APPLICATION_STATE_APPROVED" and approved.json()["decideTime"].endswith("Z")
    assert suite_stack.call("GET", f"/v1/{program}").json()["memberCompanyCount"] == 1

    mine = suite_stack.call("GET", f"/v1/programs/-/applications?company={company}", token=viewer)
    assert mine.status == 200, mine.body
    assert [(a["name"], a["state"]) for a in mine.json()["applications"]] == [
        (pending["name"], "APPLICATION_STATE_APPROVED")
    ]
    members = suite_stack.call("GET", f"/v1/{program}/applications?state=APPLICATION_STATE_APPROVED", token=admin)
    assert [a["company"] for a in members.json()["applications"]] == [company]
    assert status_of(suite_stack.call("GET", f"/v1/{program}/applications", token=editor))[:2] == (403, 7)

    expected = ["devinsider.program.v1.ApplicationCreated", "devinsider.program.v1.ApplicationUpdated"]
    events = suite_stack.broker.events_about(ODOO_PROGRAM_MEMBER_QUEUE, pending["name"], expected)
    assert [e.amqp_type for e in events] == expected
    assert all(e.envelope.source == "program" and e.properties.message_id == e.envelope.event_id for e in events)
    assert events[0].payload(events_pb2.ApplicationCreated).application.company == company
    updated = events[1].payload(events_pb2.ApplicationUpdated)
    assert (updated.previous_state, updated.application.state) == (
        program_pb2.APPLICATION_STATE_PENDING,
        program_pb2.APPLICATION_STATE_APPROVED,
    )
    received = suite_stack.broker.mails_to(f"{admin_subject}@example.com", "program_application_received")
    assert received and received[-1].variables["company_display_name"] == "Mia Integrations"
    assert suite_stack.broker.mails_to(f"{editor_subject}@example.com", "program_application_approved")
