"""SQLAlchemy Core repositories, the event publisher, clients of other services, proto mapping."""
