"""The ways in: the gRPC servicer."""
