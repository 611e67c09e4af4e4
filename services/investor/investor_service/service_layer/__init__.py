"""Use cases of the investor service and its unit of work."""
