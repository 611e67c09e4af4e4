"""Authentication (JWT verification, dev issuer) and authorisation (access policies)."""
