"""Program service."""
