"""The contact service: contact requests between organisation pages and the conversations they open."""
