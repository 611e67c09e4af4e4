"""Matching service."""
