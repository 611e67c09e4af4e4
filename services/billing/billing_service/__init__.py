"""Billing service."""
