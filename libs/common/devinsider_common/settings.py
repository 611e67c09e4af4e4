"""Configuration from the environment (pydantic-settings), with embedded defaults for local runs.

Every service reads the same variables; a service-specific prefix is not used so that one
`.env` (or one compose `environment:` block) configures the whole suite. `DATABASE_URL` may
name the service's own database; each service keeps its tables in its own schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class _SecretMarker:
    """Metadata of `Secret` settings (see `ServiceSettings._refuse_public_secrets`)."""


# A setting whose default is public (it is in this repository): production refuses to start on it.
# A service declares its secrets by annotating them `Secret`.
Secret = Annotated[str, _SecretMarker()]
DEV_PAGE_TOKEN_SECRET: Final = "dev-page-token-secret"  # noqa: S105 - public dev default, refused in production


class PublicSecretError(RuntimeError):
    """A secret setting keeps its public default (or is empty) while production mode is on.

    Not a ValueError, so pydantic lets it through as it is: the message names the variables and the
    input (which holds credentials) is not printed with it."""


class AuthSettings(BaseSettings):
    """How tokens are verified: Keycloak's JWKS in production, a local dev key pair otherwise."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    issuer: str = "http://localhost/devinsider-dev"
    # Production: Keycloak's JWKS URL. When empty, the dev key pair in `dev_key_dir` is used.
    jwks_url: str = ""
    jwks_timeout_seconds: float = 3.0
    # Unknown `kid`s trigger at most one JWKS refetch per cooldown window.
    jwks_refetch_cooldown_seconds: float = 30.0
    # Accepted audiences (`aud`) or authorised parties (`azp`); Keycloak often puts only `account` in aud.
    audiences: list[str] = Field(default_factory=lambda: ["devinsider"])
    dev_key_dir: Path = VAR_DIR / "dev-keys"
    leeway_seconds: int = 30
    # This service's own identity for service-only calls (Keycloak client-credentials grant).
    # Without a JWKS URL (local runs) service tokens come from the dev issuer instead.
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""

    @property
    def production(self) -> bool:
        """Production mode: tokens come from a real JWKS, so every secret must be a real one too."""
        return bool(self.jwks_url)


class BrokerSettings(BaseSettings):
    """RabbitMQ and the outbox relay. Without AMQP_URL events stay in the outbox table."""

    model_config = SettingsConfigDict(extra="ignore")

    amqp_url: str = ""
    relay_batch_size: int = 100
    relay_interval_seconds: float = 0.5
    relay_max_attempts: int = 10
    relay_backoff_max_seconds: float = 60.0
    # Published outbox rows and inbox records older than this are deleted by the relay (0: kept).
    outbox_retention_hours: float = 168.0
    # Without AMQP_URL: mail events are written here as .eml files (`make run`: var/mail); empty: kept.
    mail_sink_dir: str = ""
    # Consumers (devinsider_common.consumer): unacknowledged messages per process, deliveries before a
    # failing message is dead-lettered, the delay between them, and the cap of the reconnect backoff.
    consumer_prefetch: int = 10
    consumer_max_attempts: int = 5
    consumer_retry_delay_seconds: float = 5.0
    consumer_backoff_max_seconds: float = 30.0


class ServiceSettings(BaseSettings):
    """Settings common to every service; a service subclasses it to add its own."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    service_name: str = "service"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    # PostgreSQL URL (postgresql+psycopg://...) or empty for the embedded SQLite file per service.
    database_url: str = ""
    database_schema: str = ""
    redis_url: str = ""
    redis_key_prefix: str = "devinsider"
    log_level: str = "INFO"
    log_json: bool = True
    shutdown_grace_seconds: float = 10.0
    # On SIGTERM, calls keep being served this long after health turns NOT_SERVING, so that Envoy
    # (a replica is out after two failed checks, every 2 s) stops routing here before the server
    # refuses new calls.
    shutdown_delay_seconds: float = 5.0
    health_check_interval_seconds: float = 2.0
    # Threads serving calls in one process.
    max_workers: int = 16
    # PostgreSQL connections per process: the pool, and how many more a burst may open (each process of
    # each service: mind PostgreSQL's max_connections across replicas and WORKERS).
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    # Processes serving calls on the port (devinsider_common.workers); 0: one per available core
    # (the CPU affinity, capped by a container's CPU limit). Always 1 on SQLite.
    workers: int = Field(default=0, ge=0, le=64)
    # A client connection is closed (HTTP/2 GOAWAY) after this long, so that clients connect again and
    # reach replicas added since (an L4 balancer or DNS hands new connections to them); calls in flight
    # get MAX_CONNECTION_AGE_GRACE_SECONDS more. 0 keeps connections for ever.
    max_connection_age_seconds: float = 120.0
    max_connection_age_grace_seconds: float = 30.0
    # HTTP `/metrics` (Prometheus) and `/healthz`; 0 disables the endpoint.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    max_page_size: int = 200
    default_page_size: int = 50
    # HMAC key of page tokens: every replica of a service must have the same one.
    page_token_secret: Secret = DEV_PAGE_TOKEN_SECRET
    # A page token older than this is refused (the caller starts again from the first page).
    page_token_max_age_seconds: float = 86400.0
    # Where the user service listens: callers it refuses (blacklisted, deleted) are refused here too,
    # its answers cached `access_cache_ttl_seconds` at most. On by default in every service (the user
    # service itself needs none); empty: nobody is refused (one service run alone, tests).
    user_target: str = "127.0.0.1:50051"
    access_cache_ttl_seconds: float = 5.0
    auth: AuthSettings = Field(default_factory=AuthSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @classmethod
    def secret_fields(cls) -> list[str]:
        """The fields this service declares `Secret` (its environment variables are their upper case)."""
        return [
            name for name, info in cls.model_fields.items() if any(isinstance(m, _SecretMarker) for m in info.metadata)
        ]

    @model_validator(mode="after")
    def _refuse_public_secrets(self) -> Self:
        """In production mode, refuse every `Secret` setting still empty or at its public default."""
        if not self.auth.production:
            return self
        fields = type(self).model_fields
        public = [name.upper() for name in self.secret_fields() if getattr(self, name) in ("", fields[name].default)]
        if public:
            raise PublicSecretError(
                f"production mode (AUTH_JWKS_URL is set) refuses the public dev default of {', '.join(public)}: "
                "set each from your secret store"
            )
        return self

    def single_process_reason(self) -> str:
        """Why this service must run one process whatever WORKERS says (devinsider_common.workers), or ""."""
        if self.effective_database_url.startswith("sqlite"):
            return "SQLite takes one writer at a time"
        return ""

    @property
    def schema_name(self) -> str:
        """The database schema owned by this service (defaults to the service name)."""
        return self.database_schema or self.service_name

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file of this service under var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{VAR_DIR / (self.service_name + '.sqlite3')}"
