"""Which address a request comes from: the TCP peer, unless that peer is a proxy we were told to trust.

Every client can send ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``. Believing them from anyone lets a
client pick a new address per request (and walk past the per-client rate limit of ``run_data_import``) and
write a forged address into the logs. So the app reads them only when the direct peer is in
``AEROLAKE_API_TRUSTED_PROXIES`` (IP addresses and CIDR networks; empty by default: nobody is trusted), and
then only the one header ``AEROLAKE_API_FORWARDED_HEADER`` names (``X-Forwarded-For`` by default): the header
the proxy sets, or appends to. A header the proxy merely passes through would come from the client.

From a trusted proxy the chain is walked from the right (the hop nearest to us) and the first address that
is not itself a trusted proxy is the client: entries further left were written by whoever sent the request
to that hop, i.e. possibly by the client, and are never believed. An entry that is not an address
(``unknown``, an obfuscated ``Forwarded`` node, garbage) stops the walk at the nearest trusted hop.

:class:`ClientAddressMiddleware` puts the result in the ASGI scope's ``client``, so the rate limit, the
app's logs and the server's access log all see the same address. The server must not rewrite ``client``
from these headers before the app sees it: ``python -m aerolake.api`` and
:class:`aerolake.api.server.ServerThread` run uvicorn with ``proxy_headers=False``; inside Airflow see
``plugins/aerolake_plugin.py``.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aerolake.core.errors import ConfigurationError

TRUSTED_PROXIES_SETTING = "AEROLAKE_API_TRUSTED_PROXIES"
FORWARDED_HEADER_SETTING = "AEROLAKE_API_FORWARDED_HEADER"
#: the headers a proxy may use to say whom it forwards for (lower case, as in ASGI scopes)
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IpAddress | None:
    """An IP address, IPv4-mapped IPv6 (``::ffff:10.0.0.1``, dual-stack sockets) as IPv4; None if not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose forwarded headers are believed; empty = none (the default)."""

    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None, setting: str = TRUSTED_PROXIES_SETTING) -> TrustedProxies:
        """``"10.0.0.0/8, 127.0.0.1, ::1"`` -> the networks; a bad item is a :class:`ConfigurationError`
        naming ``setting`` and the item."""
        networks = []
        for item in (part.strip() for part in (text or "").split(",")):
            if not item:
                continue
            if item == "*":
                raise ConfigurationError(
                    f"{setting}: '*' is not allowed: trusting every peer lets any client choose its own address; "
                    "list the addresses or networks of your reverse proxies")
            try:
                network = ipaddress.ip_network(item, strict=True)
            except ValueError as exc:
                hint = ""
                with contextlib.suppress(ValueError):
                    hint = f" (did you mean {ipaddress.ip_network(item, strict=False)}?)"
                raise ConfigurationError(
                    f"{setting}: {item!r} is not an IP address or CIDR network{hint}: {exc}. Give comma-separated "
                    "addresses or networks of your reverse proxies, e.g. 10.0.0.5,172.16.0.0/12 (host names are "
                    "not resolved); empty trusts no proxy") from None
            if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None \
                    and network.prefixlen >= 96:
                network = ipaddress.ip_network(f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
            networks.append(network)
        return cls(tuple(networks))

    def __contains__(self, host: object) -> bool:
        if not self.networks or not isinstance(host, str):
            return False
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __str__(self) -> str:
        return ",".join(str(n) for n in self.networks) or "nobody"


def parse_forwarded_header(text: str | None, setting: str = FORWARDED_HEADER_SETTING) -> str:
    """The header a trusted proxy sets, lower case; default ``x-forwarded-for``."""
    name = (text or "").strip().lower() or "x-forwarded-for"
    if name not in FORWARDED_HEADERS:
        raise ConfigurationError(f"{setting}: {text!r} is not one of X-Forwarded-For, Forwarded, X-Real-IP")
    return name


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def forwarded_for_nodes(values: Iterable[str]) -> list[str]:
    """The ``for=`` node of each element of RFC 7239 ``Forwarded`` header values, in order (``""`` for an
    element without one)."""
    nodes = []
    for value in values:
        for element in _split_outside_quotes(value, ","):
            if not element.strip():
                continue
            node = ""
            for pair in _split_outside_quotes(element, ";"):
                name, sep, raw = pair.partition("=")
                if sep and name.strip().lower() == "for":
                    node = _unquote(raw)
            nodes.append(node)
    return nodes


def node_address(node: str) -> str | None:
    """The address of one hop (``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:443``, ``2001:db8::1``), normalized;
    None for anything else (``unknown``, ``_hidden``, garbage)."""
    node = node.strip()
    if node.startswith("["):
        end = node.find("]")
        if end < 0 or (node[end + 1:] and not node[end + 1:].startswith(":")):
            return None
        node = node[1:end]
    elif node.count(":") == 1:  # IPv4 with a port (a bare IPv6 address has at least two colons)
        node = node.split(":", 1)[0]
    address = _address(node)
    return None if address is None else str(address)


def forwarded_chain(headers: Iterable[tuple[bytes, bytes]], header: str) -> list[str]:
    """The hops ``header`` names, left (farthest) to right (nearest); every line of it, in order."""
    raw = header.encode()
    values = [value.decode("latin-1") for name, value in headers if name.lower() == raw]
    if header == "forwarded":
        return forwarded_for_nodes(values)
    return [item for value in values for item in value.split(",") if item.strip()]


def client_address(peer: str, headers: Iterable[tuple[bytes, bytes]], trusted: TrustedProxies,
                   header: str = "x-forwarded-for") -> str:
    """The client of a request whose TCP peer is ``peer``: the peer itself unless it is a trusted proxy; then
    the right-most hop of ``header`` that is not a trusted proxy (see the module docstring)."""
    if peer not in trusted:
        return peer
    client = peer
    for node in reversed(forwarded_chain(headers, header)):
        address = node_address(node)
        if address is None:
            return client
        client = address
        if address not in trusted:
            return address
    return client


class ClientAddressMiddleware:
    """ASGI middleware: ``scope["client"]`` becomes :func:`client_address` of the request (port 0 when the
    address came from a header), for the app and for the server's access log."""

    def __init__(self, app: Any, trusted: TrustedProxies, header: str = "x-forwarded-for") -> None:
        self.app = app
        self.trusted = trusted
        self.header = header

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer = scope["client"][0]
            host = client_address(peer, scope.get("headers", ()), self.trusted, self.header)
            if host != peer:
                scope["client"] = (host, 0)
        await self.app(scope, receive, send)
