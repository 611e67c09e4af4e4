"""User service: users linked to Keycloak, profiles, verified-pro and support requests, blacklist."""
