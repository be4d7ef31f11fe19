"""A local SMTP server (aiosmtpd) on 127.0.0.1, in the test's own event loop.

It speaks real SMTP: AUTH PLAIN/LOGIN against one user and password (when
given), optionally implicit TLS with a throw-away self-signed certificate
(``smtps://``). Accepted messages are parsed into ``messages``. Faults:
``refuse_recipient_next(code, text)`` answers RCPT with ``code``;
``fail_data_next(code, text)`` answers DATA with ``code`` (nothing is kept).
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@dataclass
class FakeSmtp:
    user: str | None = None
    password: str | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _rcpt_faults: list[str] = field(default_factory=list)
    _data_faults: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None
    port: int = 0

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            # AUTH without STARTTLS is deliberate on loopback (smtps:// tests cover TLS);
            # aiosmtpd warns about it, and the test suite turns warnings into errors.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
                return SMTP(
                    self,
                    hostname="mail.test",
                    auth_require_tls=False,
                    auth_required=self.user is not None,
                    authenticator=self._authenticate if self.user is not None else None,
                    loop=loop,
                )

        self._server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=tls)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def refuse_recipient_next(self, code: int = 550, text: str = "No such user") -> None:
        self._rcpt_faults.append(f"{code} {text}")

    def fail_data_next(self, code: int = 451, text: str = "Try again later") -> None:
        self._data_faults.append(f"{code} {text}")

    def _authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if login == self.user and password == self.password:
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self._rcpt_faults:
            return self._rcpt_faults.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self._data_faults:
            return self._data_faults.pop(0)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def self_signed_tls(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context
