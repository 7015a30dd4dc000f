"""The network guard: a source may name any host, but the client connects only to public addresses.

Why at connect time: a check before the request (resolve, look, then let the HTTP library resolve again)
can be beaten by DNS rebinding, where the name answers with a public address for the check and a private
one for the connection. Here the connection itself resolves the name once, drops every address it may not
reach, connects to one that is left, and checks the address the socket is connected to, for every new
connection, whichever request or redirect hop opens it (``guarded_session``). A kept-alive connection serves
a host's next request without a new lookup: it stays with the address it was checked on.

Refused always: cloud metadata endpoints (by name and by address), link-local (169.254.0.0/16, fe80::/10),
unspecified, multicast, reserved and broadcast addresses. Refused unless ``allow_private`` (the demo and
the tests, which serve from 127.0.0.1; never production): loopback, private (RFC 1918, fc00::/7), shared
(CGNAT 100.64.0.0/10) and the other ranges that are not globally reachable. IPv6 forms that carry an IPv4
address (IPv4-mapped, NAT64, 6to4) are judged by that address.

Proxies from the environment are not used: through a proxy the client would see only the proxy's address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
"""Names of cloud metadata services (refused before any lookup)."""
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::23",
              "100.100.100.200", "192.0.0.192")
)  # fmt: skip
"""AWS/GCP/Azure/OpenStack (169.254.169.254), ECS tasks, AWS DNS and IPv6 endpoints, Alibaba, Oracle."""
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """A host resolved only to addresses the guard refuses; nothing was sent to it.

    Not an ``OSError``: urllib3 and requests let it through unchanged, so it is not retried as a network
    error and its message reaches the operator as written.
    """

    def __init__(self, host: str, what: str):
        self.host = host
        super().__init__(f"{host} {what}")


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour:
            return ip.sixtofour
    return ip


def refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """What kind of address ``ip`` is when the client may not connect to it (``None``: it may)."""
    target = _embedded_ipv4(ip)
    if ip in METADATA_ADDRESSES or target in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if target.is_link_local:
        return "a link-local address"
    if target.is_unspecified or target.is_multicast or (target.is_reserved and not target.is_loopback):
        return "an address no server has (unspecified, multicast or reserved)"
    if target.is_global or allow_private:
        return None
    return f"a {'loopback' if target.is_loopback else 'private'} address (not on the public internet)"


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[tuple[int, IPAddress]]:
    """(address family, address) of each address ``host`` resolves to, in the resolver's order."""
    found = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if (family, ip) not in found:
            found.append((family, ip))
    return found


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False

    def addresses(self, host: str, port: int) -> list[tuple[int, IPAddress]]:
        """The addresses of ``host`` the client may connect to; raises ``AddressRefused`` when none is left."""
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise AddressRefused(host, "is the name of a cloud metadata service")
        literal = _literal(host)
        if literal is not None and (kind := refusal(literal, self.allow_private)):
            raise AddressRefused(host, f"is {kind}")
        allowed, refused = [], []
        for family, ip in resolve(host.strip("[]"), port):
            kind = refusal(ip, self.allow_private)
            if kind:
                refused.append(f"{ip} ({kind})")
            else:
                allowed.append((family, ip))
        if not allowed:
            raise AddressRefused(host, f"resolves only to addresses the guard refuses: {', '.join(refused)}")
        return allowed

    def check_peer(self, host: str, sock: socket.socket) -> None:
        """The socket's far end, as the kernel reports it, must be an address the policy allows."""
        ip = ipaddress.ip_address(str(sock.getpeername()[0]).split("%", 1)[0])
        kind = refusal(ip, self.allow_private)
        if kind:
            raise AddressRefused(host, f"was connected to {ip}, {kind}")


def _connect(policy: AddressPolicy, conn: HTTPConnection, connect: Callable[..., socket.socket]) -> socket.socket:
    """What urllib3's ``_new_conn`` does, connecting only to the addresses the policy allows."""
    try:
        candidates = policy.addresses(conn._dns_host, conn.port)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    last: OSError | None = None
    for family, ip in candidates:
        try:
            sock = connect(family, (str(ip), conn.port), conn.timeout, conn.source_address, conn.socket_options)
        except OSError as exc:
            last = exc
            continue
        try:
            policy.check_peer(conn.host, sock)
        except AddressRefused:
            sock.close()
            raise
        return sock
    if isinstance(last, TimeoutError):
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})")
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


def open_socket(
    family: int, address: tuple[str, int], timeout: Any, source_address: Any, options: Any
) -> socket.socket:
    """One TCP connection to exactly ``address`` (no name lookup: the address was checked)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for option in options or ():
            sock.setsockopt(*option)
        if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
            sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


KEPT_HOSTS = 64
"""Hosts whose idle connections a session keeps (urllib3 keeps 10 by default, fewer than the hosts a fetch task
works on at once, so each host's kept-alive connection would be closed before its next request)."""


def guarded_session(policy: AddressPolicy) -> requests.Session:
    """A requests session whose every connection goes through ``policy``. The caller follows redirects
    itself (``allow_redirects=False``): each hop must be checked for scope and robots.txt as well."""

    class Connection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(policy, self, open_socket)

    class SecureConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(policy, self, open_socket)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}

    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: the guard must see the real address
    for scheme in ("http://", "https://"):
        session.mount(scheme, Adapter(pool_connections=KEPT_HOSTS))
    return session
