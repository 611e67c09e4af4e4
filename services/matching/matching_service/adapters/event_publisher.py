"""The matching service's events, written to its outbox on `devinsider_matching.exchange.direct`.

The exchange routes by its queue's name (docs/decisions.md): every event uses the routing key of
`devinsider_matching_queue`; consumers tell events apart by the message type.
"""

from __future__ import annotations

from google.protobuf.message import Message

from devinsider.matching.v1 import events_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.names import PageName
from matching_service.adapters.proto_mapping import block_to_proto, page_ref, profile_to_proto, summary_to_proto
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.social import Block, BlockView


def _unsummarised(block: Block) -> pb.Block:
    """The block as events carry it: without the summary of the blocked page."""
    return block_to_proto(BlockView(block, None))


class MatchingEventPublisher:
    def __init__(self, outbox: OutboxWriter) -> None:
        self._outbox = outbox

    def profile_updated(self, profile: CriteriaProfile, changed: list[str]) -> None:
        event = events_pb2.CriteriaProfileUpdated(criteria_profile=profile_to_proto(profile), changed_fields=changed)
        self._add(event, profile.name)

    def block_created(self, block: Block) -> None:
        self._add(events_pb2.BlockCreated(parent=block.blocker.name, block=_unsummarised(block)), block.name)

    def block_deleted(self, block: Block) -> None:
        self._add(events_pb2.BlockDeleted(parent=block.blocker.name, block=_unsummarised(block)), block.name)

    def match_found(
        self,
        company: PageName,
        target: PageName,
        score: float,
        company_status: PageStatus | None,
        target_status: PageStatus | None,
    ) -> None:
        event = events_pb2.MatchFound(
            company=company.name,
            target=page_ref(target),
            score=score,
            company_summary=summary_to_proto(company, company_status),
            target_summary=summary_to_proto(target, target_status),
        )
        self._add(event, f"{company.name}|{target.name}")

    def _add(self, event: Message, external_id: str) -> None:
        self._outbox.add(topology.MATCHING, topology.direct_routing_key(topology.MATCHING), event, external_id)
