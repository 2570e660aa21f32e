"""The client's address: what every audit row records and the sign-in locks count by.

It is REMOTE_ADDR, the peer of the connection, unless Arrears runs behind a proxy trusted to
say who its own peer was. ARREARS_TRUSTED_PROXY_HEADER names the header the proxies write (e.g.
`X-Forwarded-For`, to which each proxy appends the address it received the request from) and
ARREARS_TRUSTED_PROXIES the proxies (addresses or networks). The header is believed only on a
connection from one of them, and read from the right: the first address that is not a trusted
proxy is the client's. What lies left of it was written by the client itself and may be forged
(OWASP, "Forwarded headers"; MDN, X-Forwarded-For, "Selecting an IP address"). With no header
configured, a header the client sends is ignored.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

from django.conf import settings

ADDRESS_LIMIT = 45  # AuditEntry.ip, LoginFailure.ip: the longest IPv6 text


def _parsed(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: Any) -> str:
    """The address of the client of `request` (a Django HttpRequest), as the module says; "" if
    the server gave none. An entry of the header that is not an address (or no header) ends the
    reading: the nearest trusted proxy's address then stands for the client."""
    remote = str(request.META.get("REMOTE_ADDR", ""))[:ADDRESS_LIMIT]
    header = settings.ARREARS_TRUSTED_PROXY_HEADER
    if not header:
        return remote
    proxies = [ip_network(p, strict=False) for p in settings.ARREARS_TRUSTED_PROXIES]

    def trusted(address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in proxies)

    if not trusted(_parsed(remote)):
        return remote
    key = "HTTP_" + header.upper().replace("-", "_")
    # Several header lines of the same name reach Django joined by commas, in order.
    for entry in reversed(str(request.META.get(key, "")).split(",")):
        address = _parsed(entry)
        if address is None:
            return remote
        if not trusted(address):
            return str(address)
        remote = str(address)
    return remote
