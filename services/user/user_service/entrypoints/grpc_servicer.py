"""UserService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, idempotency_key, optional_enum, required_enum
from devinsider_common.pages.names import parse_id
from user_service.adapters import proto_mapping as mapping
from user_service.domain.blacklist import BlacklistKind
from user_service.domain.model import PROFILE_FIELDS, ContactCategory, Profile, UserState
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest
from user_service.service_layer.app import UserApp

SIGNATURE_HEADER = "x-keycloak-signature"
_USER_STATES: dict[int, UserState] = {v: k for k, v in mapping.USER_STATES.items()}
_PRO_STATES: dict[int, ProVerificationState] = {v: k for k, v in mapping.PRO_STATES.items()}
_BLACKLIST_KINDS: dict[int, BlacklistKind] = {v: k for k, v in mapping.BLACKLIST_KINDS.items()}


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, app: UserApp) -> None:
        self._app = app

    def GetMe(self, request: user_pb2.GetMeRequest, context: grpc.ServicerContext) -> user_pb2.User:
        return mapping.user_to_proto(self._app.users.me(caller()), private=True)

    def UpdateMe(self, request: user_pb2.UpdateMeRequest, context: grpc.ServicerContext) -> user_pb2.User:
        fields = resolve_update_mask(request.update_mask, request.user, PROFILE_FIELDS, "user")
        u = request.user
        category = optional_enum(ContactCategory, u.contact_category, "user.contact_category")
        changes = Profile(
            given_name=u.given_name,
            family_name=u.family_name,
            job_title=u.job_title,
            country_code=u.country_code,
            phone_number=u.phone_number,
            linkedin_url=u.linkedin_url,
            biography=u.biography,
            contact_category=category or ContactCategory.UNSPECIFIED,
        )
        user = self._app.users.update_me(caller(), changes, fields)
        return mapping.user_to_proto(user, private=True)

    def GetUser(self, request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> user_pb2.User:
        view = self._app.users.get_user(caller(), parse_id(request.name, "users"))
        return mapping.user_to_proto(view.user, private=view.full)

    def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: grpc.ServicerContext
    ) -> user_pb2.ListUsersResponse:
        state: UserState | None = optional_enum(_USER_STATES, request.state, "state")
        users, token = self._app.users.list_users(request.page_size, request.page_token, request.email_suffix, state)
        return user_pb2.ListUsersResponse(
            users=[mapping.user_to_proto(u, private=True) for u in users], next_page_token=token
        )

    def CheckUserAccess(
        self, request: user_pb2.CheckUserAccessRequest, context: grpc.ServicerContext
    ) -> user_pb2.CheckUserAccessResponse:
        if not request.subject:
            raise errors.InvalidArgument.for_field("subject", "is required")
        decision = self._app.blacklist.check_access(request.subject, request.email.lower())
        return user_pb2.CheckUserAccessResponse(
            allowed=decision.allowed, reason=decision.reason, cache_ttl_seconds=30, user=decision.user
        )

    def ReceiveKeycloakEvent(
        self, request: user_pb2.ReceiveKeycloakEventRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        headers = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        self._app.keycloak.receive(request.body.data, headers.get(SIGNATURE_HEADER))
        return empty_pb2.Empty()

    def CreateProVerification(
        self, request: user_pb2.CreateProVerificationRequest, context: grpc.ServicerContext
    ) -> user_pb2.ProVerification:
        p = request.pro_verification
        draft = ProVerification(
            id="",
            user_id="",
            work_email=p.work_email.strip().lower(),
            company_name=p.company_name.strip(),
            evidence_url=p.evidence_url.strip(),
            message=p.message,
            idempotency_key=idempotency_key(request.request_id),
        )
        return mapping.pro_verification_to_proto(self._app.requests.create_pro_verification(caller(), draft))

    def GetProVerification(
        self, request: user_pb2.GetProVerificationRequest, context: grpc.ServicerContext
    ) -> user_pb2.ProVerification:
        request_id = parse_id(request.name, "proVerifications")
        return mapping.pro_verification_to_proto(self._app.requests.get_pro_verification(caller(), request_id))

    def ListProVerifications(
        self, request: user_pb2.ListProVerificationsRequest, context: grpc.ServicerContext
    ) -> user_pb2.ListProVerificationsResponse:
        state: ProVerificationState | None = optional_enum(_PRO_STATES, request.state, "state")
        items, token = self._app.requests.list_pro_verifications(caller(), request.page_size, request.page_token, state)
        return user_pb2.ListProVerificationsResponse(
            pro_verifications=[mapping.pro_verification_to_proto(i) for i in items], next_page_token=token
        )

    def ApproveProVerification(
        self, request: user_pb2.ApproveProVerificationRequest, context: grpc.ServicerContext
    ) -> user_pb2.ProVerification:
        request_id = parse_id(request.name, "proVerifications")
        decided = self._app.requests.decide_pro_verification(caller(), request_id, approve=True)
        return mapping.pro_verification_to_proto(decided)

    def RejectProVerification(
        self, request: user_pb2.RejectProVerificationRequest, context: grpc.ServicerContext
    ) -> user_pb2.ProVerification:
        request_id = parse_id(request.name, "proVerifications")
        decided = self._app.requests.decide_pro_verification(caller(), request_id, approve=False, reason=request.reason)
        return mapping.pro_verification_to_proto(decided)

    def CreateSupportRequest(
        self, request: user_pb2.CreateSupportRequestRequest, context: grpc.ServicerContext
    ) -> user_pb2.SupportRequest:
        s = request.support_request
        draft = SupportRequest(
            id="",
            user_id="",
            subject=s.subject.strip(),
            message=s.message,
            idempotency_key=idempotency_key(request.request_id),
        )
        return mapping.support_request_to_proto(self._app.requests.create_support_request(caller(), draft))

    def ListSupportRequests(
        self, request: user_pb2.ListSupportRequestsRequest, context: grpc.ServicerContext
    ) -> user_pb2.ListSupportRequestsResponse:
        items, token = self._app.requests.list_support_requests(request.page_size, request.page_token)
        return user_pb2.ListSupportRequestsResponse(
            support_requests=[mapping.support_request_to_proto(i) for i in items], next_page_token=token
        )

    def CreateBlacklistEntry(
        self, request: user_pb2.CreateBlacklistEntryRequest, context: grpc.ServicerContext
    ) -> user_pb2.BlacklistEntry:
        e = request.blacklist_entry
        kind: BlacklistKind = required_enum(_BLACKLIST_KINDS, e.kind, "blacklist_entry.kind")
        entry = self._app.blacklist.create(caller(), kind, e.value, e.reason)
        return mapping.blacklist_entry_to_proto(entry)

    def ListBlacklistEntries(
        self, request: user_pb2.ListBlacklistEntriesRequest, context: grpc.ServicerContext
    ) -> user_pb2.ListBlacklistEntriesResponse:
        kind: BlacklistKind | None = optional_enum(_BLACKLIST_KINDS, request.kind, "kind")
        items, token = self._app.blacklist.list_blacklist_entries(request.page_size, request.page_token, kind)
        return user_pb2.ListBlacklistEntriesResponse(
            blacklist_entries=[mapping.blacklist_entry_to_proto(i) for i in items], next_page_token=token
        )

    def DeleteBlacklistEntry(
        self, request: user_pb2.DeleteBlacklistEntryRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.blacklist.delete(parse_id(request.name, "blacklistEntries"))
        return empty_pb2.Empty()
