"""Which address a request came from, for rate limits: the peer, or what a trusted proxy saw.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the
connection itself comes from one of RIGHTFUL_TRUSTED_PROXIES. Even then only the part our own
proxies added counts: reading the list from the right, the first address that is not one of
them is the client they saw; anything further left was sent by that client and may be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def _is_proxy(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # not an address at all, so not one of ours
    return any(ip in net for net in networks)


def client_of(peer: str, forwarded_for: Iterable[str], trusted_proxies: Iterable[str]) -> str:
    """The client's address: `peer`, or, when `peer` is a trusted proxy, the right-most hop of
    the `X-Forwarded-For` headers (in the order received) that is not a trusted proxy."""
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _is_proxy(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_proxy(hop, networks):
            return hop[:64]  # a key for counting only; a long forged value gains nothing
    return hops[0][:64] if hops else peer  # every hop is ours: the first is the one we know
