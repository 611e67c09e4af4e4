"""The end-to-end journeys of tests/e2e, through the edge container of the compose stack: the same test
functions, with `suite_stack` bound to the compose project (conftest). They register through the Keycloak
webhook, build pages, buy credits through the local provider's signed callback (billing -> edge -> billing),
unlock, and read every event they owe from the stack's RabbitMQ queues."""

from __future__ import annotations

from ..e2e.test_journeys import (
    test_an_investor_buys_credits_and_unlocks_an_isv_to_see_its_contacts,
    test_an_isv_registers_builds_its_page_finds_matches_and_applies,
    test_every_event_of_both_journeys_arrives_decoded_on_its_queue,
)

__all__ = [
    "test_an_investor_buys_credits_and_unlocks_an_isv_to_see_its_contacts",
    "test_an_isv_registers_builds_its_page_finds_matches_and_applies",
    "test_every_event_of_both_journeys_arrives_decoded_on_its_queue",
]
