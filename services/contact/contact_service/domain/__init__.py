"""Contact requests, conversations and messages, unlocks seen by the contact service: models and rules, no I/O."""
