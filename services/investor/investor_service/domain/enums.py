"""Enumerations of investor pages (values match the proto enums of devinsider.investor.v1)."""

from __future__ import annotations

import enum


class InvestorCategory(enum.IntEnum):
    INSTITUTIONAL = 1
    INDIVIDUAL = 2


class InvestorType(enum.IntEnum):
    VENTURE_CAPITAL = 1
    BUSINESS_ANGEL = 2
    CORPORATE_VC = 3
    PRIVATE_EQUITY = 4
    FAMILY_OFFICE = 5
    ACCELERATOR = 6
    PUBLIC_FUND = 7
    CROWDFUNDING = 8


class InvestorState(enum.IntEnum):
    ACTIVE = 1
    DELETED = 2
