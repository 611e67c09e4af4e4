"""Use cases of the user service: each runs in one unit of work."""
