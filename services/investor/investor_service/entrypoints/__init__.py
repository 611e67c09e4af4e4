"""The gRPC servicer of the investor service."""
