"""Which client a request counts for: the peer, or what a trusted proxy saw (web/client.py)."""

from __future__ import annotations

from rightful.web.client import client_of

PROXIES = ["10.0.0.0/8", "2001:db8::/32"]


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_of("127.0.0.1", ["203.0.113.7"], []) == "127.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client() -> None:
    assert client_of("192.0.2.50", ["203.0.113.7"], PROXIES) == "192.0.2.50"


def test_the_right_most_hop_that_is_not_a_proxy_is_the_client() -> None:
    forged_then_real = ["1.2.3.4, 203.0.113.7, 10.0.0.9"]
    assert client_of("10.0.0.2", forged_then_real, PROXIES) == "203.0.113.7"


def test_several_headers_are_read_in_order_as_one_list() -> None:
    assert client_of("10.0.0.2", ["1.2.3.4", "203.0.113.7"], PROXIES) == "203.0.113.7"


def test_ipv6_proxies_and_clients_are_understood() -> None:
    assert client_of("2001:db8::1", ["2001:db8::2, 2a00:1450::5"], PROXIES) == "2a00:1450::5"


def test_a_proxy_that_sends_no_header_is_the_client() -> None:
    assert client_of("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_garbage_in_the_header_is_a_client_key_not_a_proxy() -> None:
    assert client_of("10.0.0.2", ["not-an-address"], PROXIES) == "not-an-address"
