"""gRPC plumbing shared by every service: server, interceptors, status mapping, health, clients."""
