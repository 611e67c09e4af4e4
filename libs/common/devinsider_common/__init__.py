"""Mechanisms shared by every DevInsider service: config, server, auth, errors, DB, outbox, cache."""
