"""TLS for HTTP/2: a self-signed certificate and an `ssl.SSLContext` that offers ``h2``.

Not built in a notebook: notebook 07 (asyncio server) uses it for TLS with ALPN.

Browsers speak HTTP/2 only over TLS, and they pick it during the TLS
handshake with ALPN (RFC 7301): the client lists the protocols it knows, the
server chooses ``h2`` (RFC 9113 §3.2). No upgrade dance, no extra round trip.

RFC 9113 §9.2 also constrains TLS itself: version 1.2 or later, no TLS
compression, no renegotiation, and with TLS 1.2 only ephemeral key exchange
with AEAD ciphers (the §9.2.2 block list names everything else).
`server_context` builds such a context. TLS 1.3 (RFC 8446) satisfies all of
this by design.

For a local course server a self-signed certificate is enough:
`self_signed_certificate` makes one for ``localhost`` and ``127.0.0.1`` with
the `cryptography` package and writes it to a fresh temporary directory.
Clients must then be told to trust it (``curl --cacert cert.pem``,
``httpx.AsyncClient(verify=...)``) or to skip the check (``curl -k``).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "ALPN_PROTOCOLS",
    "TLS12_CIPHERS",
    "SelfSignedCertificate",
    "self_signed_certificate",
    "server_context",
]

#: What the server offers in ALPN: HTTP/2 over TLS, and nothing else (RFC 9113 §3.2).
ALPN_PROTOCOLS = ["h2"]
#: TLS 1.2 cipher suites allowed by RFC 9113 §9.2.2: ephemeral ECDHE key exchange, AEAD only.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True)
class SelfSignedCertificate:
    """Where `self_signed_certificate` wrote the certificate and its private key."""

    certfile: Path
    keyfile: Path

    @property
    def directory(self) -> Path:
        return self.certfile.parent


def self_signed_certificate(
    directory: str | Path | None = None,
    *,
    hostnames: tuple[str, ...] = ("localhost",),
    addresses: tuple[str, ...] = ("127.0.0.1", "::1"),
    days: int = 30,
) -> SelfSignedCertificate:
    """Make a self-signed certificate for `hostnames` and `addresses`.

    Written as ``cert.pem`` and ``key.pem`` into `directory`, or into a new
    private temporary directory (``tempfile.mkdtemp``, mode 0700) when None.
    The key is ECDSA P-256: quick to generate and accepted by every client.
    The certificate is its own issuer, so it can be passed to a client as the
    trusted CA file (``curl --cacert``, ``httpx verify=``).
    """
    if directory is None:
        directory = tempfile.mkdtemp(prefix="gethy-tls-")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gethy (self-signed, for local use)"),
            x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    subject_key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    alt_names: list[x509.GeneralName] = [x509.DNSName(host) for host in hostnames]
    alt_names += [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(subject_key_id, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(subject_key_id),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certfile = folder / "cert.pem"
    keyfile = folder / "key.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    keyfile.touch(mode=0o600)
    keyfile.write_bytes(key_pem)
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return SelfSignedCertificate(certfile, keyfile)


def server_context(certfile: str | Path, keyfile: str | Path | None = None) -> ssl.SSLContext:
    """A server `ssl.SSLContext` fit for HTTP/2 (RFC 9113 §9.2) that offers ``h2`` by ALPN.

    TLS 1.2 or newer; with TLS 1.2 only ECDHE + AEAD cipher suites (§9.2.2);
    no TLS compression (§9.2.1) and no renegotiation (§9.2.1).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)  # TLS 1.3 suites are all AEAD and stay enabled
    context.options |= ssl.OP_NO_COMPRESSION
    context.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    context.load_cert_chain(str(certfile), None if keyfile is None else str(keyfile))
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    return context
