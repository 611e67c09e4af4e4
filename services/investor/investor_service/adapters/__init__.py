"""SQLAlchemy repositories, proto mapping and event publishing of the investor service."""
