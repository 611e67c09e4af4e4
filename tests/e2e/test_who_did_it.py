"""Who did it, through the edge: inviters, members, applicants and deciders are the callers' users
(`users/{id}`, what GET /v1/users/me names them), never their Keycloak subjects. Nobody here visits
GET /v1/users/me before acting: the services create the users they have not seen yet."""

from __future__ import annotations

from typing import Any

from .suite_stack import SuiteStack, create_company, unique


def ok(response: Any) -> dict[str, Any]:
    assert response.status == 200, response.body
    return dict(response.json())


def user_of(stack: SuiteStack, token: str) -> str:
    return str(ok(stack.call("GET", "/v1/users/me", token=token))["name"])


def member(page: str, user: str) -> str:
    return f"{page}/members/{user.removeprefix('users/')}"


def test_inviters_and_members_are_users(suite_stack: SuiteStack) -> None:
    alice, bob_subject = suite_stack.token(unique("isv-who-alice")), unique("isv-who-bob")
    company = create_company(suite_stack, alice, displayName="Who Did It")["name"]
    email = f"{bob_subject}@example.com"
    sent = ok(
        suite_stack.call("POST", f"/v1/{company}/invitations", {"email": email, "role": "PAGE_ROLE_VIEWER"}, alice)
    )
    name, one_time = suite_stack.broker.invitation_token(email, "company_invitation")
    assert name == sent["name"]
    bob = suite_stack.token(bob_subject, email=email)
    joined = ok(suite_stack.call("POST", f"/v1/{name}:accept", {"token": one_time}, bob))

    victor = suite_stack.token(unique("inv-who-victor"), roles=("investor",))
    page = {"displayName": "Who Ventures", "category": "INVESTOR_CATEGORY_INSTITUTIONAL"}
    investor = ok(
        suite_stack.call("POST", "/v1/investors", page | {"investorType": "INVESTOR_TYPE_VENTURE_CAPITAL"}, victor)
    )
    invited = {"email": "someone@example.com", "role": "PAGE_ROLE_VIEWER"}
    investor_invitation = ok(suite_stack.call("POST", f"/v1/{investor['name']}/invitations", invited, victor))

    alice_user, bob_user, victor_user = (user_of(suite_stack, t) for t in (alice, bob, victor))
    assert sent["inviter"] == alice_user and investor_invitation["inviter"] == victor_user
    assert joined["member"] == member(company, bob_user)
    members = ok(suite_stack.call("GET", f"/v1/{company}/members", token=alice))["members"]
    assert sorted((m["name"], m["user"]) for m in members) == sorted(
        [(member(company, alice_user), alice_user), (member(company, bob_user), bob_user)]
    )
    owners = ok(suite_stack.call("GET", f"/v1/{investor['name']}/members", token=victor))["members"]
    assert [(m["name"], m["user"]) for m in owners] == [(member(investor["name"], victor_user), victor_user)]
    # The member's name is the one to act on: the owner demotes Bob by it.
    demoted = suite_stack.call("PATCH", f"/v1/{joined['member']}?updateMask=role", {"role": "PAGE_ROLE_EDITOR"}, alice)
    assert ok(demoted)["role"] == "PAGE_ROLE_EDITOR"


def test_applicants_and_deciders_are_users(suite_stack: SuiteStack) -> None:
    judy = suite_stack.token(unique("prog-who-judy"), roles=("program",))
    programs = []
    for title in ("Who Approves", "Who Withdraws"):
        body = {"displayName": title, "vendorName": "Contoso", "programType": "PROGRAM_TYPE_TECHNOLOGY"}
        program = ok(suite_stack.call("POST", "/v1/programs", body, judy))["name"]
        ok(suite_stack.call("POST", f"/v1/{program}:publish", {}, judy))
        programs.append(program)
    alice = suite_stack.token(unique("isv-who-alice"))
    company = create_company(suite_stack, alice, displayName="Who Applies")["name"]
    applied = [
        ok(suite_stack.call("POST", f"/v1/{program}/applications", {"company": company}, alice)) for program in programs
    ]
    approved = ok(suite_stack.call("POST", f"/v1/{applied[0]['name']}:approve", {}, judy))
    withdrawn = ok(suite_stack.call("POST", f"/v1/{applied[1]['name']}:withdraw", {}, alice))

    alice_user, judy_user = user_of(suite_stack, alice), user_of(suite_stack, judy)
    assert [a["applicant"] for a in applied] == [alice_user, alice_user]
    assert (approved["decider"], withdrawn["decider"]) == (judy_user, alice_user)
