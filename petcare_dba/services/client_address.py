"""The client address the login throttle counts: the TCP peer, or what a trusted proxy says.

Forwarding headers are written by whoever sends the request, so they are believed only when the
direct peer is one of the operator's proxies (`trusted_proxies`, a comma-separated list of
CIDRs). The chain is then walked from the right (the hop the trusted proxy itself appended) to the
left, and the first address that is not a trusted proxy is the client; anything further left was
written by the client and is ignored. `X-Forwarded-For` is read when present, else RFC 7239
`Forwarded` (configure the proxy to overwrite the header it does not use). A loopback peer that is
not a trusted proxy, a malformed hop and a chain of only proxies give no address (None): the
throttle then has no address bucket at all rather than one bucket shared by everyone, and the
per-account limits still apply.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from petcare_dba.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_HOPS = 32  # a longer chain is not from a real proxy setup; ignore what is beyond
_FOR = re.compile(r'(?:^|[;,\s])for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def parse_trusted(text: str) -> tuple[Network, ...]:
    """The trusted proxy networks of the `trusted_proxies` setting (ConfigError when invalid)."""
    networks = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"trusted_proxies: {item!r} is not an address or CIDR",
                hint="e.g. PETCARE_TRUSTED_PROXIES=127.0.0.1/32,10.0.0.0/8",
            ) from exc
    return tuple(networks)


def _address(text: str | None) -> Address | None:
    """An IP address from a peer or a forwarded hop (brackets and ports removed), else None."""
    if not text:
        return None
    value = text.strip().strip('"')
    if value.startswith("["):  # [v6] or [v6]:port
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def forwarded_chain(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The hops named by X-Forwarded-For (else Forwarded), left to right, all occurrences."""
    xff: list[str] = []
    fwd: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "x-forwarded-for":
            xff += [hop.strip() for hop in value.split(",")]
        elif lowered == "forwarded":
            fwd += [m.group(1) for m in _FOR.finditer(value)]
    return xff if xff else fwd


def resolve(
    peer: str | None, headers: Iterable[tuple[str, str]], networks: tuple[Network, ...]
) -> str | None:
    """The client address for the throttle, or None when there is none worth counting."""
    address = _address(peer)
    if address is None:
        return None
    if not _trusted(address, networks):
        return None if address.is_loopback else str(address)
    for hop in reversed(forwarded_chain(headers)[-MAX_HOPS:]):
        hop_address = _address(hop)
        if hop_address is None:
            return None  # a trusted proxy wrote something unparsable: count no address
        if not _trusted(hop_address, networks):
            return str(hop_address)
    return None  # only proxies: no client address
