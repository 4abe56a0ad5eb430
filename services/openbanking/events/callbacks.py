"""Where event notifications may go: a TPP's callback must be on the public internet.

A callback URL is the TPP's to choose, and the delivery Lambda POSTs to it from inside the bank's network, so an
address of that network (`https://10.0.0.1/cb`), of the host (`127.0.0.1`) or of the cloud
(`https://169.254.169.254/latest`) would turn event delivery into a server-side request forgery. So:

- at subscription time the events service refuses a `CallbackUrl` whose host is, or resolves to, anything but
  public unicast addresses (:func:`vet_host`): private, loopback, link-local, shared (CGNAT, 100.64.0.0/10),
  multicast, reserved, unspecified, documentation and other non-global ranges, IPv4 and IPv6, including IPv4
  embedded in IPv6 (mapped, 6to4, Teredo, NAT64);
- at delivery time, because a name can be re-pointed after it was checked, :class:`PinnedNetworkBackend` resolves
  the name again, checks every address, and opens the TCP connection to the address it checked, never to a second
  lookup's answer. TLS still verifies the certificate against the host name.
- in a deployed account the host must also be on the bank's list of TPP callback domains (:func:`domain_allowed`,
  `OB_CALLBACK_DOMAINS`, from `network.callbackDomains`): the egress firewall and proxy let out nothing else. There
  the delivery goes through the egress proxy with `CONNECT <host>:<port>`, after the same check: the proxy matches
  the name against that list (Squid `dstdomain`, the firewall the TLS SNI) and resolves it itself, and its
  `internal_dst` deny refuses every non-public address it would connect to, which is what keeps a re-pointed name
  out of the bank's network on that path (a proxy can only judge a name it is given).

Loopback is allowed only where the caller says so (`local`: a TPP's callback server on the developer's machine).
Names are resolved by a :data:`NameResolver`, the system's by default; tests pass their own.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host name -> the IP addresses (text) it resolves to; raises `OSError` when it cannot be resolved.
NameResolver = Callable[[str], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_MAX_PROXY_ANSWER = 16 * 1024


def system_resolver(host: str) -> list[str]:
    """The addresses the system's resolver gives for `host` (IPv4 and IPv6), each once."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)))


class CallbackRefused(ValueError):
    """The callback is not on the public internet; the message names the host, the address and why."""


class ResolutionFailed(OSError):
    """The callback's host name did not resolve (possibly a passing DNS failure)."""


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address (e.g. `private`, `link-local`), or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"{problem} (IPv4 {embedded} inside IPv6)" if problem else "IPv4 inside IPv6"
    for problem, applies in (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
                             ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                             ("private", address.is_private), ("shared (CGNAT)", address in _CGNAT),
                             ("reserved", address.is_reserved)):
        if applies:
            return problem
    if not address.is_global:
        return "not globally routable"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def vet_host(host: str, resolver: NameResolver, *, allow_loopback: bool = False) -> list[IPAddress]:
    """The addresses `host` (a name or an IP literal) stands for, every one public (or loopback, when allowed).

    Raises :class:`CallbackRefused` when one is not, :class:`ResolutionFailed` when the name does not resolve."""
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            answers = resolver(host)
        except (OSError, UnicodeError) as exc:
            raise ResolutionFailed(f"{host} could not be resolved: {exc}") from exc
        addresses = [ip for ip in (_literal(a.split("%", 1)[0]) for a in answers) if ip is not None]
        if not addresses:
            raise ResolutionFailed(f"{host} resolves to no address")
    for address in addresses:
        if allow_loopback and address.is_loopback:
            continue
        problem = address_problem(address)
        if problem:
            where = str(address) if literal is not None else f"{host} resolves to {address}, which"
            raise CallbackRefused(f"{where} is a {problem} address; event notifications go to public addresses only")
    return addresses


def domain_allowed(host: str, domains: Iterable[str]) -> bool:
    """Whether `host` is on the list, read as the egress proxy and firewall read it: `example.com` is that name
    only, `.example.com` that name and every name under it. Case does not matter; a name written with a trailing dot
    (`hooks.example.com.`) or an IP address is never on the list: the proxy would not match it either."""
    name = host.lower()
    if name.endswith(".") or _literal(name) is not None:
        return False
    for domain in domains:
        entry = domain.lower().rstrip(".")
        if name == entry.lstrip(".") or (entry.startswith(".") and name.endswith(entry)):
            return True
    return False


def vet_callback_url(url: str, resolver: NameResolver, *, allow_loopback: bool = False,
                     domains: Iterable[str] | None = None) -> None:
    """Raise :class:`CallbackRefused` or :class:`ResolutionFailed` unless the URL's host is public (and, with
    `domains`, on that list of TPP callback domains, on port 443: what the bank's egress lets out)."""
    host = urlsplit(url).hostname
    if not host:
        raise CallbackRefused(f"{url} names no host")
    if domains is not None:
        check_egress(url, domains)
    vet_host(host, resolver, allow_loopback=allow_loopback)


def check_egress(url: str, domains: Iterable[str]) -> None:
    """Raise :class:`CallbackRefused` unless the bank's egress lets the callback out: its host on `domains` (the
    TPP callback domains), its port 443. No DNS lookup."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not domain_allowed(host, domains):
        listed = ", ".join(domains) or "none"
        raise CallbackRefused(f"{host} is not one of the bank's TPP callback domains ({listed}); the bank's network "
                              "lets event notifications out to those only")
    try:
        port = parts.port
    except ValueError:
        raise CallbackRefused(f"{url} has no valid port") from None
    if port not in (None, 443):
        raise CallbackRefused(f"port {port}: the bank's network lets event notifications out on 443 only")


class PinnedNetworkBackend(httpcore.NetworkBackend):
    """An httpcore network backend that connects only to addresses it has vetted (see the module docstring).

    `proxy` is an `http://host:port` forward proxy (the egress proxy, from `HTTPS_PROXY`): once the name's addresses
    are vetted, the tunnel is asked for the name, which the proxy allow-lists, resolves and checks itself."""

    def __init__(self, resolver: NameResolver, *, proxy: str | None = None, allow_loopback: bool = False,
                 backend: httpcore.NetworkBackend | None = None) -> None:
        self.resolver = resolver
        self.allow_loopback = allow_loopback
        self.backend = backend or httpcore.SyncBackend()
        self.proxy: tuple[str, int] | None = None
        if proxy:
            parts = urlsplit(proxy)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"HTTPS_PROXY: {proxy!r} must be an http://host:port forward proxy")
            self.proxy = (parts.hostname, parts.port or 80)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = vet_host(host, self.resolver, allow_loopback=self.allow_loopback)
        except ResolutionFailed as exc:
            raise httpcore.ConnectError(str(exc)) from exc  # worth retrying: DNS may answer next time
        if self.proxy is not None:
            return self._tunnel(host, port, timeout, local_address, socket_options)
        last: Exception | None = None
        for address in addresses:
            try:
                return self._connect(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def _connect(self, address: str, port: int, timeout: float | None, local_address: str | None,
                 socket_options: Iterable[httpcore.SOCKET_OPTION] | None) -> httpcore.NetworkStream:
        return self.backend.connect_tcp(address, port, timeout, local_address, socket_options)

    def _tunnel(self, host: str, port: int, timeout: float | None, local_address: str | None,
                socket_options: Iterable[httpcore.SOCKET_OPTION] | None) -> httpcore.NetworkStream:
        assert self.proxy is not None
        stream = self.backend.connect_tcp(*self.proxy, timeout, local_address, socket_options)
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            stream.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("ascii"), timeout)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = stream.read(4096, timeout)
                if not chunk or len(answer) > _MAX_PROXY_ANSWER:
                    raise httpcore.ProxyError(f"the proxy closed the tunnel to {target}")
                answer += chunk
            status_line = answer.split(b"\r\n", 1)[0]
            status = status_line.split()
            if len(status) < 2 or not status[1].startswith(b"2"):
                raise httpcore.ProxyError(f"the proxy refused the tunnel to {target}: {status_line!r}")
        except BaseException:
            stream.close()
            raise
        return stream

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("event notifications are not sent to unix sockets")

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a :class:`PinnedNetworkBackend`. httpx takes no network backend, so its connection
    pool is rebuilt with ours; request and response mapping and exception mapping stay httpx's own."""

    def __init__(self, backend: PinnedNetworkBackend, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
                                             network_backend=backend)


def pinned_client(resolver: NameResolver = system_resolver, *, proxy: str | None = None, allow_loopback: bool = False,
                  verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """An httpx client for event delivery: connections only to vetted public addresses, no redirects, no
    environment proxy settings (the proxy is `proxy`, tunnelled to the vetted address)."""
    backend = PinnedNetworkBackend(resolver, proxy=proxy, allow_loopback=allow_loopback)
    return httpx.Client(transport=PinnedTransport(backend, verify=verify), follow_redirects=False, trust_env=False)
