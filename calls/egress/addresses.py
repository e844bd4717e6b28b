"""Which destinations a staff-set URL (a webhook tool's) may reach.

A URL set in the admin or the assistants JSON is fetched by the server, from inside
the deployment's network, and its answer is shown to staff and read to the model.
So it must not reach the server itself, the private network or a cloud metadata
service: loopback, private, link-local, shared, multicast, reserved and unspecified
addresses are refused, in every spelling (``0x7f000001``, ``127.1``,
``[::ffff:127.0.0.1]``), as are names that only mean something inside
(``localhost``, ``*.internal``, ``*.local``) and URLs with user information.

Checked twice: the URL as written, when it is saved and before each request, and
each address the name resolves to, when the connection is made (a resolver that
answers differently the second time gains nothing). A deployment that calls its own
internal services lists them: host names, or networks in CIDR form.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that resolve to the host or its network, or to a cloud metadata service.
INTERNAL_NAMES = frozenset({"localhost", "metadata", "instance-data"})
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


class Refused(ValueError):
    """A destination the policy does not allow; the message says why."""


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one, in any spelling the system's
    resolver would accept (``127.1``, ``0x7f000001``, ``2130706433``)."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def is_internal(address: IPAddress) -> bool:
    """Not a public unicast address (IPv4-mapped IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_multicast or not address.is_global


@dataclass(frozen=True, slots=True)
class Destinations:
    """The outbound policy: public addresses, plus what the deployment allows."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_entries(cls, entries: list[str] | tuple[str, ...]) -> Destinations:
        """From the allow-list setting's entries: host names or CIDR networks.
        Raises ValueError naming the first entry that is neither."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "/" in entry or literal_address(entry) is not None:
                try:
                    networks.append(
                        ipaddress.ip_network(entry.strip("[]"), strict=False)
                    )
                except ValueError as exc:
                    raise ValueError(f"{raw!r} is not a network in CIDR form") from exc
            elif all(
                part and part.replace("-", "").isalnum() for part in entry.split(".")
            ):
                hosts.add(entry.rstrip("."))
            else:
                raise ValueError(f"{raw!r} is neither a host name nor a network")
        return cls(frozenset(hosts), tuple(networks))

    def allows_address(self, address: IPAddress) -> bool:
        if not is_internal(address):
            return True
        mapped = (
            address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        )
        return any(
            address in network or (mapped is not None and mapped in network)
            for network in self.allowed_networks
        )

    def url_problem(self, url: str) -> str:
        """Why ``url`` may not be fetched, as it is written ("" when it may)."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            return "is not a valid URL."
        if parts.scheme.lower() not in ("http", "https"):
            return "must be an http:// or https:// URL."
        if parts.username is not None or parts.password is not None:
            return "must not hold a user name or password (use the signing secret)."
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return "has no host."
        return self.host_problem(host, parts)

    def host_problem(self, host: str, parts: SplitResult | None = None) -> str:
        host = host.lower().rstrip(".")
        if host in self.allowed_hosts:
            return ""
        address = literal_address(host)
        if address is not None:
            if self.allows_address(address):
                return ""
            return _internal(str(address))
        if host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES):
            return _internal(host)
        return ""

    def check_resolved(self, host: str, address: str) -> None:
        """At connect time: raise ``Refused`` for an address ``host`` resolved to
        that the policy does not allow (an allowed host name may be internal)."""
        if host.lower().rstrip(".") in self.allowed_hosts:
            return
        parsed = literal_address(address.split("%", 1)[0])
        if parsed is None or not self.allows_address(parsed):
            raise Refused(f"{host} resolves to an internal address")


def _internal(what: str) -> str:
    return (
        f"points at an internal address ({what}); a deployment that calls its own "
        "services lists them in WEBHOOK_ALLOW_INTERNAL."
    )
