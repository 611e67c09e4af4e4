"""Use cases on what users ask of DevInsider: verified-pro requests and support requests.

Support requests are throttled per user (their rows in the window are the count): each one mails
staff and the Odoo helpdesk, so one account must not flood them.
"""

from __future__ import annotations

from dataclasses import replace

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.rate_limits import RateLimit
from devinsider_common.unit_of_work import create_once
from user_service.domain.model import User
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest
from user_service.service_layer.ports import Clock, UowFactory, UserUnitOfWork
from user_service.service_layer.users import UserUseCases


class RequestUseCases:
    def __init__(
        self, uow: UowFactory, clock: Clock, limits: ListLimits, users: UserUseCases, support_rate: RateLimit
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._users = users
        self._support_rate = support_rate

    def create_pro_verification(self, principal: Principal, draft: ProVerification) -> ProVerification:
        """One pending request per user (the store enforces it too); the same idempotency key returns
        the first result, also when a concurrent retry stored it first."""
        user = self._users.me(principal)
        request = replace(draft, id=new_id(), user_id=user.id, created_at=self._clock())
        request.validate()
        return create_once(
            lambda: self._add_pro_verification(user, request),
            lambda: self._same_pro_verification(user.id, request.idempotency_key),
            lambda _: _already_pending(),  # a concurrent request of the user, under another key
        )

    def _add_pro_verification(self, user: User, request: ProVerification) -> ProVerification:
        with self._uow() as uow:
            key = request.idempotency_key
            if key and (same := uow.pro_verifications.find(user.id, key)):
                return same
            if uow.pro_verifications.find(user.id, pending=True):
                raise _already_pending()
            uow.pro_verifications.add(request)
            uow.events.pro_verification_changed(request, user)
            uow.commit()
        return request

    def _same_pro_verification(self, user_id: str, key: str) -> ProVerification | None:
        if not key:
            return None
        with self._uow(read_only=True) as uow:
            return uow.pro_verifications.find(user_id, key)

    def get_pro_verification(self, principal: Principal, request_id: str) -> ProVerification:
        with self._uow(read_only=True) as uow:
            request = uow.pro_verifications.get(request_id)
            owner = uow.users.get_by_subject(principal.subject)
        # Someone else's request is reported as missing: its existence is not the caller's business.
        visible = request is not None and (
            principal.is_staff_or_service or (owner is not None and owner.id == request.user_id)
        )
        if request is None or not visible:
            raise errors.NotFound(f"proVerifications/{request_id} does not exist", reason="PRO_VERIFICATION_NOT_FOUND")
        return request

    def list_pro_verifications(
        self, principal: Principal, page_size: int, page_token: str, state: ProVerificationState | None
    ) -> tuple[list[ProVerification], str]:
        user_id = None if principal.is_staff_or_service else self._users.me(principal).id
        filters = {"user": user_id or "", "state": state.value if state else ""}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.pro_verifications.list_after(window, user_id, state)
        return finish_window(window, found)

    def decide_pro_verification(
        self, principal: Principal, request_id: str, approve: bool, reason: str = ""
    ) -> ProVerification:
        with self._uow() as uow:
            request = uow.pro_verifications.get(request_id, lock=True)
            if request is None:
                raise errors.NotFound(
                    f"proVerifications/{request_id} does not exist", reason="PRO_VERIFICATION_NOT_FOUND"
                )
            decided = request.decide(approve, _reviewer(uow, principal), self._clock(), reason)
            uow.pro_verifications.save_decision(decided)
            user = uow.users.get(request.user_id)
            if user is None:
                raise errors.FailedPrecondition("the requesting user no longer exists", reason="USER_NOT_FOUND")
            if approve and not user.verified_pro:
                user = uow.users.save(replace(user, verified_pro=True, updated_at=self._clock()))
                uow.events.user_updated(user, ["verified_pro"])
            uow.events.pro_verification_changed(decided, user)
            uow.commit()
        return decided

    def create_support_request(self, principal: Principal, draft: SupportRequest) -> SupportRequest:
        """Throttled per user; the same idempotency key returns the first result (never throttled)."""
        user = self._users.me(principal)
        request = replace(draft, id=new_id(), user_id=user.id, created_at=self._clock())
        request.validate()
        return create_once(
            lambda: self._add_support_request(user, request),
            lambda: self._same_support_request(user.id, request.idempotency_key),
        )

    def _add_support_request(self, user: User, request: SupportRequest) -> SupportRequest:
        with self._uow() as uow:
            key = request.idempotency_key
            if key and (same := uow.support_requests.find(user.id, key)):
                return same  # a retry, not a new request: never throttled
            self._support_rate.check(
                request.created_at or self._clock(),
                lambda since, limit: uow.support_requests.created_since(user.id, since, limit),
                what="support requests per user",
                reason="SUPPORT_REQUESTS_RATE_LIMITED",
            )
            uow.support_requests.add(request)
            uow.events.support_request_created(request, user)
            uow.commit()
        return request

    def _same_support_request(self, user_id: str, key: str) -> SupportRequest | None:
        if not key:
            return None
        with self._uow(read_only=True) as uow:
            return uow.support_requests.find(user_id, key)

    def list_support_requests(self, page_size: int, page_token: str) -> tuple[list[SupportRequest], str]:
        window = list_window(page_size, page_token, self._limits)
        with self._uow(read_only=True) as uow:
            found = uow.support_requests.list_after(window)
        return finish_window(window, found)


def _already_pending() -> errors.FailedPrecondition:
    return errors.FailedPrecondition("a verification request is already pending", reason="PRO_VERIFICATION_PENDING")


def _reviewer(uow: UserUnitOfWork, principal: Principal) -> str:
    reviewer: User | None = uow.users.get_by_subject(principal.subject)
    return reviewer.name if reviewer else principal.subject
