"""The contact service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from contact_service.service_layer.conversations import ConversationUseCases
from contact_service.service_layer.requests import ContactRequestUseCases
from contact_service.service_layer.unlocks import UnlockUseCases


@dataclass(frozen=True)
class ContactApp:
    requests: ContactRequestUseCases
    conversations: ConversationUseCases
    unlocks: UnlockUseCases
