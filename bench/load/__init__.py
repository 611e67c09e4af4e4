"""Load bench (`python -m bench.load`, never a test): the whole suite on PostgreSQL and Redis, seeded,
driven with a realistic mix through the REST edge and directly over gRPC, against the echo ceiling."""
