"""The SMTP server email goes out through: EMAIL_URL parsed (by django-environ, with Arrears's
options), and Django's SMTP email backend that sends through it (arrears.correspondence.mail_out).

EMAIL_URL: `smtp://[user:pass@]host[:port][?starttls=yes|no&cafile=PATH&timeout=S]` or
`smtps://…` (TLS from the start). Invariant: a connection fails loudly (`fail_silently=False`), so
every SMTP error reaches mail_out's classification.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import environ
from django.core import mail
from django.core.mail.backends import smtp
from django.utils.functional import cached_property

from arrears.core.errors import ValidationError

SMTP_BACKEND = "arrears.correspondence.smtp.SmtpBackend"


class SmtpBackend(smtp.EmailBackend):
    """Django's SMTP email backend, trusting EMAIL_URL's `cafile` (a private relay's CA) instead of
    the system's CAs when it names one."""

    def __init__(self, *, cafile: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cafile = cafile

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile or None)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, parsed from EMAIL_URL, and the Django email backend that sends."""

    host: str
    port: int
    security: str  # "plain", "starttls" or "tls" (implicit TLS, smtps://)
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: str = ""  # trust this CA file instead of the system's (a private relay)
    timeout: float = 30.0
    backend: str = SMTP_BACKEND

    def connection(self) -> Any:
        """A connection of the email backend (not yet opened), failing loudly."""
        return mail.get_connection(
            self.backend,
            fail_silently=False,
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.security == "starttls",
            use_ssl=self.security == "tls",
            timeout=self.timeout,
            cafile=self.cafile,
        )


def parse_email_url(url: str) -> SmtpSettings:
    """Parse EMAIL_URL: `smtp://[user:pass@]host[:port][?starttls=yes|no&cafile=PATH&timeout=S]`
    or `smtps://…` (implicit TLS, port 465 by default).

    `smtp://` uses STARTTLS when `starttls=yes`, and by default on port 587 (the submission port,
    RFC 6409); it is refused if the server does not offer it. User and password are URL-decoded.
    Raises ValidationError for anything else.
    """
    scheme = url.partition(":")[0]
    if scheme not in ("smtp", "smtps"):
        raise ValidationError(f"EMAIL_URL must start smtp:// or smtps://, not {scheme!r}")
    try:
        # django-environ's parse; smtps:// is TLS from the start here (RFC 8314 §3.3), where
        # environ takes it for STARTTLS, so its EMAIL_USE_TLS is not read.
        parsed = environ.Env.email_url_config(url)
    except ValueError as exc:
        raise ValidationError(f"EMAIL_URL: {exc}") from None
    if not parsed["EMAIL_HOST"]:
        raise ValidationError("EMAIL_URL names no host")
    query = {k.lower(): str(v) for k, v in parsed.get("OPTIONS", {}).items()}
    unknown = set(query) - {"starttls", "cafile", "timeout"}
    if unknown:
        raise ValidationError(f"EMAIL_URL: unknown option {sorted(unknown)[0]!r}")
    port = parsed["EMAIL_PORT"] or (465 if scheme == "smtps" else 25)
    try:
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise ValidationError(f"EMAIL_URL: {exc}") from None
    if scheme == "smtps":
        security = "tls"
    else:
        flag = query.get("starttls", "yes" if port == 587 else "no").lower()
        if flag not in ("yes", "no", "true", "false", "1", "0"):
            raise ValidationError(f"EMAIL_URL: starttls is yes or no, not {flag!r}")
        security = "starttls" if flag in ("yes", "true", "1") else "plain"
    return SmtpSettings(
        host=parsed["EMAIL_HOST"],
        port=port,
        security=security,
        username=parsed["EMAIL_HOST_USER"] or "",
        password=parsed["EMAIL_HOST_PASSWORD"] or "",
        cafile=query.get("cafile", ""),
        timeout=timeout,
    )


def smtp_from_env() -> SmtpSettings:
    """The EMAIL_URL setting parsed; ValidationError if it is not set."""
    from django.conf import settings

    url = getattr(settings, "EMAIL_URL", "")
    if not url:
        raise ValidationError("EMAIL_URL is not set (e.g. smtp://user:pass@host:587)")
    return parse_email_url(url)
