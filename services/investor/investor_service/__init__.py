"""Investor service."""
