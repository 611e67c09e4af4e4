"""The edge around Envoy: config and OpenAPI generated from a FileDescriptorSet (see README, "Gateway")."""
