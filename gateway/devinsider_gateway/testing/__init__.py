"""Helpers for tests, the local run and the bench: a real Envoy process and an echo gRPC backend."""
