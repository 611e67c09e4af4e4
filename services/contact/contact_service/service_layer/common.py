"""Pieces every use case shares: the unit-of-work factory and the clock (the caller's page authorisation and
the blocks check are `devinsider_common.pages.authorization`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contact_service.service_layer.ports import ContactUnitOfWork
from devinsider_common.unit_of_work import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[ContactUnitOfWork]
Clock = Callable[[], datetime]

# What a block between two pages means here (the end of `BLOCKED`'s message).
CANNOT_CONTACT = "they cannot contact each other"
