"""Contact requests: send one to a page the sender unlocked, read them from either side, and answer them.

The checks that ask other services (permissions, blocked pair, the contact person, the pages' names, the
sender's plan) run before the write; the rules on stored rows (idempotency key, one open request per ordered
pair, the cool-down after a decline, the daily rate, the plan's monthly allowance) are read first and the pair
is held by a partial unique index when the request is written, so two concurrent sends of the pair store one
(the other gets it back as its twin, or CONTACT_REQUEST_EXISTS). Events and the CRM counters of both pages
commit with the change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from contact_service.domain.requests import (
    ContactPerson,
    ContactRequest,
    Direction,
    RequestState,
    check_decline_reason,
    check_new_request,
    check_user,
    require_cooled_down,
    require_state,
)
from contact_service.domain.unlocks import require_unlocked
from contact_service.service_layer.common import CANNOT_CONTACT, Clock, UowFactory
from contact_service.service_layer.conversations import open_conversation
from contact_service.service_layer.ports import ContactUnitOfWork, PageDirectory
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.clock import calendar_month
from devinsider_common.entitlements import EntitlementsSource, Unrestricted, plan_limit_reached
from devinsider_common.ids import new_id
from devinsider_common.pages.authorization import BlockList, PageAuthorizer, require_not_blocked
from devinsider_common.pages.names import PageName
from devinsider_common.pages.ports import UserLookup
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.rate_limits import RateLimit
from devinsider_common.unit_of_work import DuplicateRecord, create_once

VIEW, EDIT, MANAGE = PagePermission.VIEW_PRIVATE, PagePermission.EDIT, PagePermission.MANAGE_MEMBERS


class ContactPersons:
    """Contact persons named by a page: users the platform admits who are members of that page."""

    def __init__(self, auth: PageAuthorizer, users: UserLookup) -> None:
        self._auth = auth
        self._users = users

    def named(self, user: str, page: PageName, path: str) -> ContactPerson:
        checks = errors.Violations()
        check_user(checks, path, user)
        checks.raise_if_any()
        found = self._users.find(user)
        if found is None:
            raise errors.InvalidArgument.for_field(path, f"{user} is not a user of DevInsider")
        if found.refusal:
            raise errors.FailedPrecondition(
                f"{user} cannot be a contact person: the platform refuses their account ({found.refusal})",
                reason="CONTACT_PERSON_REFUSED",
            )
        if not self._auth.allowed(Principal(found.subject), page, VIEW):
            raise errors.InvalidArgument.for_field(path, f"{user} must be a member of {page.name}")
        return ContactPerson(found.user, found.display_name, found.email)


def require_monthly_allowance(uow: ContactUnitOfWork, sender: PageName, monthly: int, now: datetime) -> None:
    """The sender's plan caps the requests it sends each UTC calendar month (`contact_requests_per_month`, 0: no
    cap), counted from its stored requests, every state included (a withdrawn request was sent)."""
    if monthly <= 0:
        return
    start, following = calendar_month(now)
    if len(uow.requests.sent_since(sender, start, monthly)) >= monthly:
        raise plan_limit_reached(
            "contact_requests_per_month",
            sender,
            monthly,
            f"{sender.name} sent its {monthly} contact requests of {start:%B %Y}",
            reason="CONTACT_REQUESTS_PLAN_LIMIT",
            retry_after=following - now,
        )


class ContactRequestUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        auth: PageAuthorizer,
        blocks: BlockList,
        pages: PageDirectory,
        persons: ContactPersons,
        limits: ListLimits,
        rate: RateLimit,
        cooldown: timedelta,
        entitlements: EntitlementsSource | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = auth
        self._blocks = blocks
        self._pages = pages
        self._persons = persons
        self._limits = limits
        self._rate = rate
        self._cooldown = cooldown
        self._entitlements = entitlements or Unrestricted()  # BILLING_TARGET empty: no monthly cap

    # --- sending ----------------------------------------------------------------------------
    def create(
        self, principal: Principal, sender: PageName, target: PageName, message: str, contact: str, request_id: str
    ) -> ContactRequest:
        self._auth.require(principal, sender, EDIT, staff=False)
        message = message.strip()
        check_new_request(sender, target, message, contact)
        if not request_id:  # its length was checked with the request (grpc.requests.idempotency_key)
            raise errors.InvalidArgument.for_field("request_id", "is required")
        now = self._clock()
        monthly = self._entitlements.of(sender).contact_requests_per_month  # before the transaction: asks billing
        with self._uow(read_only=True) as uow:
            existing = self._replay(uow, sender, target, request_id)
            if existing is not None:
                return existing
            require_unlocked(uow.unlocks.has_unlocked(sender, target), sender, target)
            self._require_pair_free(uow, sender, target)
            recent = partial(uow.requests.sent_since, sender)
            self._rate.check(now, recent, what="contact requests", reason="CONTACT_REQUESTS_RATE_LIMITED")
            require_monthly_allowance(uow, sender, monthly, now)
        require_not_blocked(self._blocks, sender, target, CANNOT_CONTACT)
        person = self._persons.named(contact, sender, "contact_request.sender_contact.user")
        names = self._pages.display_names([sender, target])
        if target not in names:
            raise errors.NotFound(f"{target.name} does not exist", reason="CONTACT_TARGET_NOT_FOUND")
        request = ContactRequest(
            new_id(),
            sender,
            target,
            message,
            person,
            names.get(sender, ""),
            names[target],
            self._auth.creator(principal),
            now,
            request_id=request_id,
        )

        def write() -> ContactRequest:
            with self._uow() as uow:
                self._require_pair_free(uow, sender, target)
                uow.requests.add(request)
                uow.events.request_created(request)
                self._count(uow, sender, target)
                uow.commit()
            return request

        def twin() -> ContactRequest | None:
            with self._uow(read_only=True) as uow:
                return self._replay(uow, sender, target, request_id)

        return create_once(write, twin, lambda _: self._pair_taken(sender, target))

    def _replay(self, uow: ContactUnitOfWork, sender: PageName, target: PageName, key: str) -> ContactRequest | None:
        found = uow.requests.by_request(sender, key)
        if found is not None and found.target != target:
            raise errors.InvalidArgument.for_field("request_id", "was used for a request to another page")
        return found

    def _require_pair_free(self, uow: ContactUnitOfWork, sender: PageName, target: PageName) -> None:
        open_request = uow.requests.open_between(sender, target)
        if open_request is not None:
            state = open_request.state.name.lower()
            raise errors.AlreadyExists(
                f"{sender.name} already has a {state} contact request to {target.name}: {open_request.name}",
                reason="CONTACT_REQUEST_EXISTS",
            )
        require_cooled_down(uow.requests.last_declined_at(sender, target), self._cooldown, self._clock())

    def _pair_taken(self, sender: PageName, target: PageName) -> errors.DomainError:
        with self._uow(read_only=True) as uow:
            try:
                self._require_pair_free(uow, sender, target)
            except errors.DomainError as error:
                return error
        return errors.Conflict("a concurrent request of the same pair won; retry")

    @staticmethod
    def _count(uow: ContactUnitOfWork, *pages: PageName) -> None:
        for page in pages:
            uow.events.counters_changed(page, uow.requests.counters(page))

    # --- reading ----------------------------------------------------------------------------
    def get(self, principal: Principal, sender: PageName, request_id: str) -> ContactRequest:
        """The sender's members (and staff) see it all; the target's members see it as `seen_by_target`."""
        if principal.is_staff_or_service or self._auth.allowed(principal, sender, VIEW):
            with self._uow(read_only=True) as uow:
                found = uow.requests.get(sender, request_id)
            if found is None:
                raise errors.NotFound(
                    f"{sender.child('contactRequests', request_id)} does not exist", reason="CONTACT_REQUEST_NOT_FOUND"
                )
            return found
        with self._uow(read_only=True) as uow:
            found = uow.requests.get(sender, request_id)
        if found is None or not self._auth.allowed(principal, found.target, VIEW):
            raise self._auth.page_denied(VIEW, sender.name)  # never says whether it exists
        return found.seen_by_target()

    def list_requests(
        self,
        principal: Principal,
        page: PageName,
        direction: Direction | None,
        state: RequestState | None,
        page_size: int,
        page_token: str,
    ) -> tuple[list[ContactRequest], str]:
        self._auth.require(principal, page, VIEW)
        if direction is None:
            raise errors.InvalidArgument.for_field("direction", "is required: INCOMING or OUTGOING")
        filters = {"parent": page.name, "direction": direction, "state": state}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.requests.list_after(page, direction, window, state)
        items, token = finish_window(window, found)
        if direction is Direction.INCOMING:
            items = [item.seen_by_target() for item in items]
        return items, token

    # --- answering --------------------------------------------------------------------------
    def _addressed(self, principal: Principal, sender: PageName, request_id: str) -> ContactRequest:
        """The request, for a manager of the page it addresses; to anyone else it is PAGE_PERMISSION_DENIED."""
        with self._uow(read_only=True) as uow:
            found = uow.requests.get(sender, request_id)
        if found is None or not self._auth.allowed(principal, found.target, MANAGE):
            raise self._auth.page_denied(MANAGE, "the page the request addresses")
        return found

    def accept(self, principal: Principal, sender: PageName, request_id: str, contact: str) -> ContactRequest:
        request = self._addressed(principal, sender, request_id)
        if request.state is RequestState.ACCEPTED:
            return request
        require_state(request, "accept", RequestState.PENDING)
        person = self._persons.named(contact, request.target, "contact_person")
        require_not_blocked(self._blocks, request.sender, request.target, CANNOT_CONTACT)
        decider = self._auth.creator(principal)
        try:
            return self._accept(request, person, decider)
        except DuplicateRecord:  # the reverse request's acceptance opened the pair's conversation meanwhile
            return self._accept(request, person, decider)

    def _accept(self, request: ContactRequest, person: ContactPerson, decider: str) -> ContactRequest:
        now = self._clock()
        with self._uow() as uow:
            current = uow.requests.get(request.sender, request.id, lock=True)
            if current is None:
                raise errors.NotFound(f"{request.name} does not exist", reason="CONTACT_REQUEST_NOT_FOUND")
            if current.state is RequestState.ACCEPTED:
                return current
            conversation = open_conversation(uow, current, person, now)
            accepted = current.accepted(person, conversation.id, decider, now)
            uow.requests.save(accepted)
            uow.events.request_accepted(accepted)
            self._count(uow, accepted.sender, accepted.target)
            uow.commit()
        return accepted

    def decline(self, principal: Principal, sender: PageName, request_id: str, reason: str) -> ContactRequest:
        request = self._addressed(principal, sender, request_id)
        check_decline_reason(reason)
        return self._decide(request, RequestState.DECLINED, reason.strip(), self._auth.creator(principal))

    def withdraw(self, principal: Principal, sender: PageName, request_id: str) -> ContactRequest:
        self._auth.require(principal, sender, EDIT, staff=False)
        with self._uow(read_only=True) as uow:
            request = uow.requests.get(sender, request_id)
        if request is None:
            name = sender.child("contactRequests", request_id)
            raise errors.NotFound(f"{name} does not exist", reason="CONTACT_REQUEST_NOT_FOUND")
        return self._decide(request, RequestState.WITHDRAWN, "", self._auth.creator(principal))

    def _decide(self, request: ContactRequest, outcome: RequestState, reason: str, decider: str) -> ContactRequest:
        """Decline or withdraw: from PENDING only; a repeat of the same decision returns the request."""
        action = "decline" if outcome is RequestState.DECLINED else "withdraw"
        if request.state is outcome:
            return request if outcome is RequestState.WITHDRAWN else request.seen_by_target()
        require_state(request, action, RequestState.PENDING)
        now = self._clock()
        with self._uow() as uow:
            current = uow.requests.get(request.sender, request.id, lock=True) or request
            if current.state is outcome:
                return current
            if outcome is RequestState.DECLINED:
                decided = current.declined(reason, decider, now)
                uow.requests.save(decided)
                uow.events.request_declined(decided)
            else:
                decided = current.withdrawn(decider, now)
                uow.requests.save(decided)
                uow.events.request_withdrawn(decided)
            uow.commit()
        return decided if outcome is RequestState.WITHDRAWN else decided.seen_by_target()
