"""The notification service's domain: categories and preferences, notifications and their drafts, the
facts it learns from the other services' events, the match digest. No I/O."""
