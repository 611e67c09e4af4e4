"""The contact service's use cases and the ports they need."""
