"""Company service: service_layer."""
