"""The edge fetches a remote JWKS over HTTPS only from a server it can verify: a certificate chaining to a CA
of `--jwks-ca-file` and naming the URL's host. A real Envoy against JWKS servers with throwaway certificates."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_gateway.testing.http import request

from .conftest import Edge, start_edge, stop_edge

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, issuer: tuple[Key, x509.Certificate] | None, host: str = ""
) -> tuple[Key, x509.Certificate]:
    """A CA (no `issuer`: self-signed) or a server certificate for `host` signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    signing_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, _name(subject))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if host:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
    return key, builder.sign(signing_key, hashes.SHA256())


def _pem(path: Path, certificate: x509.Certificate, key: Key | None = None) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.with_suffix(".key").write_bytes(key_pem)
    return path


class _Handler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        body = self.server.jwks
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class JwksServer(ThreadingHTTPServer):
    """Serves `jwks` over HTTPS with `certificate` (its key beside it, `.key`) on ::1, where Envoy's resolver
    puts `localhost` (RFC 6761) whatever /etc/hosts says."""

    address_family = socket.AF_INET6

    def __init__(self, jwks: bytes, certificate: Path) -> None:
        super().__init__(("::1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate.with_suffix(".key"))
        # A refused handshake raises in accept (an OSError), which the server ignores.
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.jwks = jwks
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture(scope="module")
def edges(descriptor_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Edge]]:
    """Three edges on one key pair: the JWKS server trusted and named by the URL, signed by an unknown CA,
    and trusted but named for another host."""
    work = tmp_path_factory.mktemp("jwks-tls")
    keys = work / "keys"
    jwks = json.dumps(ensure_dev_keys(keys).jwks).encode()
    trusted, unknown = _certificate("trusted CA", None), _certificate("unknown CA", None)
    ca_files = {
        "trusted": _pem(work / "trusted-ca.pem", trusted[1]),
        "unknown": _pem(work / "unknown-ca.pem", unknown[1]),
    }
    leaf = _certificate("jwks", trusted, host="localhost")
    other = _certificate("jwks", trusted, host="keycloak.example.com")
    servers = {
        "localhost": JwksServer(jwks, _pem(work / "localhost.pem", leaf[1], leaf[0])),
        "other-host": JwksServer(jwks, _pem(work / "other.pem", other[1], other[0])),
    }
    cases = {
        "trusted": ("localhost", "trusted"),
        "unknown-ca": ("localhost", "unknown"),
        "wrong-host": ("other-host", "trusted"),
    }
    running: dict[str, Edge] = {}
    try:
        for case, (server, ca) in cases.items():
            url = f"https://localhost:{servers[server].port}/realms/test/protocol/openid-connect/certs"
            extra = ["--no-docs", "--jwks-url", url, "--jwks-ca-file", str(ca_files[ca])]
            running[case] = start_edge(descriptor_set, tmp_path_factory.mktemp(case), extra=extra, keys=keys)
        yield running
    finally:
        for edge in running.values():
            stop_edge(edge)
        for jwks_server in servers.values():
            jwks_server.stop()


def _ssl_stats(edge: Edge) -> dict[str, int]:
    """The jwks cluster's TLS counters (`fail_verify_error`: untrusted chain, `fail_verify_san`: wrong name)."""
    text = edge.envoy.admin("/stats?filter=^cluster\\.jwks\\.ssl\\.")
    pairs = (line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {name.removeprefix("cluster.jwks.ssl."): int(value) for name, value in pairs if value.isdigit()}


def _secret(edge: Edge) -> int:
    return request("GET", edge.url("/v1/secret"), headers={"authorization": f"Bearer {edge.token('ada')}"}).status


def test_a_token_is_accepted_with_keys_from_a_trusted_server_named_by_the_url(edges: dict[str, Edge]) -> None:
    edge = edges["trusted"]
    assert _secret(edge) == 200
    stats = _ssl_stats(edge)
    assert stats["handshake"] >= 1 and stats["fail_verify_error"] == stats["fail_verify_san"] == 0


def test_no_keys_from_a_server_whose_ca_is_not_trusted(edges: dict[str, Edge]) -> None:
    edge = edges["unknown-ca"]
    assert _secret(edge) == 401
    assert _ssl_stats(edge)["fail_verify_error"] >= 1


def test_no_keys_from_a_trusted_certificate_for_another_host(edges: dict[str, Edge]) -> None:
    edge = edges["wrong-host"]
    assert _secret(edge) == 401
    stats = _ssl_stats(edge)
    assert stats["fail_verify_san"] >= 1 and stats["handshake"] == 0
