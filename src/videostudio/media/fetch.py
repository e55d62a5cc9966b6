"""SSRF-safe streaming download of user-supplied ``https://`` URLs.

Threat model
------------
Users hand the API URLs of input images, videos and audio, and the worker downloads them from
*inside* the deployment's network. Without care, that turns the worker into a proxy into places
the user cannot reach: cloud metadata endpoints (``169.254.169.254``), the database or admin ports
on ``127.0.0.1``, services on the private network, or other tenants behind a carrier-grade NAT.
The same download is also a resource attack surface: a huge (or endlessly streamed) body can fill
the disk, a compressed body can expand in memory, and a server that stalls or trickles one byte a
second can hold a worker slot forever.

Defences, and why each one exists
---------------------------------
- **https only, no credentials** (also for every redirect): plain http could be rewritten on the
  way, and ``user:password@`` URLs would make the worker authenticate somewhere on the user's
  behalf and would leak secrets into error messages.
- **Address policy on the resolved IPs**, not on the host name: names like ``2130706433`` or a
  public name whose DNS points to ``10.0.0.5`` are only unmasked by looking at the addresses.
  Every non-public range is refused (loopback, private, link-local, CGNAT, multicast, reserved,
  documentation, ...), and IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible,
  NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by that IPv4 address, because the packets
  end up there. Teredo is refused outright. The operator allow-list (``allowed_networks``) is
  consulted first, so an internal media host can be permitted explicitly.
- **Every answer must pass**: if *any* resolved address is refused the URL is refused, so a DNS
  answer mixing a public and a private address cannot be used to get lucky.
- **Pinning** (against DNS rebinding): the host is resolved exactly once per hop, the addresses are
  checked, and the connection is made to the checked IP literal itself. TLS still verifies the
  certificate for the original host name (it is passed as SNI / ``server_hostname``) and the
  ``Host`` header carries the original host, so virtual hosting and certificate checks behave as
  for a normal request; a second, attacker-controlled DNS answer is never consulted.
- **Manual redirects**: each ``Location`` is resolved against the current URL, must be ``https``,
  and goes through resolution, the address policy and pinning again, so a public URL cannot bounce
  the worker to an internal one. Their number is capped.
- **Size cap while streaming**: a ``Content-Length`` over the cap is refused before the body is
  read, and the bytes actually received are counted, so a lying or missing length cannot get past
  it. The body is never held in memory (at most one buffer of ``_FLUSH_BYTES``), and
  ``Accept-Encoding: identity`` plus raw (undecoded) reading means what is counted is what is
  written: no decompression bomb.
- **A total deadline** over resolution, connection, redirects and body: per-read timeouts alone do
  not stop a server that trickles a byte every few seconds.
- **No ambient configuration**: no proxies or ``.netrc`` from the environment (``trust_env=False``),
  no cookies carried between hops (a fresh client per hop), TLS verification always on.

Guarantees
----------
``download`` either returns a :class:`Downloaded` whose file at ``dest`` holds exactly ``bytes``
bytes with the given SHA-256, or raises :class:`FetchError` (or lets ``asyncio.CancelledError``
through) and leaves no file it created at ``dest``. Every TCP connection it opens goes to an
address that passed :func:`address_refusal` for the policy at hand. Local I/O errors while writing
``dest`` (disk full, missing directory) are *not* the URL's fault and propagate as ``OSError``.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, TypeAlias

import certifi
import httpx

__all__ = [
    "Downloaded",
    "FetchError",
    "FetchPolicy",
    "FetchReason",
    "Network",
    "Resolver",
    "address_refusal",
    "download",
    "parse_networks",
    "system_resolver",
]

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver: TypeAlias = Callable[[str, int], Awaitable[list[str]]]
FetchReason: TypeAlias = Literal[
    "blocked_address",
    "too_large",
    "timeout",
    "too_many_redirects",
    "http_error",
    "bad_url",
    "dns",
    "connect",
    "tls",
]

MAX_MESSAGE_CHARS: Final = 300
# Long URLs are cut in messages so that the reason at the end of the sentence survives the cap.
_MAX_URL_CHARS: Final = 120
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
# Big enough that the thread hop per write is noise, small enough to bound memory per download.
_FLUSH_BYTES: Final = 256 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """What one download may do. Build it once from settings and share it."""

    max_bytes: int
    connect_timeout: float = 5.0
    total_timeout: float = 60.0
    max_redirects: int = 3
    allowed_networks: tuple[Network, ...] = ()
    ca_bundle: Path | None = None
    user_agent: str = "VideoStudio-Fetcher/1.0"

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.max_redirects < 0:
            raise ValueError("max_bytes and max_redirects must not be negative")
        if not (self.connect_timeout > 0 and self.total_timeout > 0):
            raise ValueError("connect_timeout and total_timeout must be positive")


@dataclass(frozen=True)
class Downloaded:
    path: Path
    bytes: int
    sha256: str
    content_type: str | None
    final_url: str


class FetchError(Exception):
    """A download was refused or failed.

    ``str(exc)`` is one complete sentence (at most 300 characters) fit for a job's error message;
    it starts with the URL as the user gave it, minus any credentials and with the query string
    replaced by ``?…`` (pre-signed URLs carry secrets there). ``reason`` is a short machine code.
    """

    reason: FetchReason

    def __init__(self, reason: FetchReason, message: str) -> None:
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, str(self)))


async def system_resolver(host: str, port: int) -> list[str]:
    """The default resolver: the OS's ``getaddrinfo``, run off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# --------------------------------------------------------------------------- address policy


def parse_networks(spec: str | Iterable[str]) -> tuple[Network, ...]:
    """Parse an allow-list: ``"127.0.0.1/32, ::1/128"`` (commas and/or whitespace) or an iterable.

    A bare address means that one address. Host bits are masked off (``10.1.2.3/8`` is
    ``10.0.0.0/8``), matching how the settings validate the value.
    """
    items = re.split(r"[\s,]+", spec) if isinstance(spec, str) else list(spec)
    networks: list[Network] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{item!r} is not a network: use an address or CIDR, e.g. 10.0.0.0/8 or fd00::/8"
            ) from None
        if network not in networks:
            networks.append(network)
    return tuple(networks)


def _v4(spec: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(spec)


def _v6(spec: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(spec)


# Spelled out (IANA special-purpose registries) instead of relying only on ``is_private`` and
# friends, whose lists change between Python patch releases; the stdlib flags remain as a backstop.
# Order matters only for the wording: the most specific description comes first.
_V4_BLOCKED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_v4("255.255.255.255/32"), "the broadcast address"),
    (_v4("0.0.0.0/32"), "the unspecified address"),
    (_v4("0.0.0.0/8"), "a 'this network' address"),
    (_v4("10.0.0.0/8"), "a private address"),
    (_v4("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (_v4("127.0.0.0/8"), "a loopback address"),
    (_v4("169.254.0.0/16"), "a link-local address"),
    (_v4("172.16.0.0/12"), "a private address"),
    (_v4("192.0.0.0/24"), "a reserved (IETF protocol) address"),
    (_v4("192.0.2.0/24"), "a documentation address"),
    (_v4("192.88.99.0/24"), "a reserved (6to4 relay) address"),
    (_v4("192.168.0.0/16"), "a private address"),
    (_v4("198.18.0.0/15"), "a benchmarking address"),
    (_v4("198.51.100.0/24"), "a documentation address"),
    (_v4("203.0.113.0/24"), "a documentation address"),
    (_v4("224.0.0.0/4"), "a multicast address"),
    (_v4("240.0.0.0/4"), "a reserved address"),
)
_V6_BLOCKED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_v6("::/128"), "the unspecified address"),
    (_v6("::1/128"), "a loopback address"),
    (_v6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_v6("100::/64"), "a discard-only address"),
    # Teredo embeds an obfuscated client address and tunnels through relays: not worth judging.
    (_v6("2001::/32"), "a Teredo address"),
    (_v6("2001:db8::/32"), "a documentation address"),
    (_v6("3fff::/20"), "a documentation address"),
    (_v6("fc00::/7"), "a unique-local address"),
    (_v6("fe80::/10"), "a link-local address"),
    (_v6("fec0::/10"), "a site-local address"),
    (_v6("ff00::/8"), "a multicast address"),
)
_NAT64: Final = _v6("64:ff9b::/96")
_SIX_TO_FOUR: Final = _v6("2002::/16")
_IPV4_COMPATIBLE: Final = _v6("::/96")


def _allowed(address: Address, allowed: tuple[Network, ...]) -> bool:
    # The version check is explicit: some Python releases compared v4 addresses against v6
    # networks by integer value, which would make ``::/0`` admit every IPv4 address.
    return any(address.version == net.version and address in net for net in allowed)


def address_refusal(ip: str, allowed: tuple[Network, ...]) -> str | None:
    """``None`` if ``ip`` may be contacted, else why not, e.g. ``"a loopback address"``.

    The reason reads after "<ip> is ...". ``allowed`` (the operator's allow-list) wins over the
    block-list; for IPv6 forms that embed an IPv4 address, the IPv4 address decides, allow-list
    included. Raises ``ValueError`` if ``ip`` is not an IP address.
    """
    return _refusal(ipaddress.ip_address(ip), allowed)


def _refusal(address: Address, allowed: tuple[Network, ...]) -> str | None:
    if _allowed(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        for network, description in _V4_BLOCKED:
            if address in network:
                return description
        if not address.is_global:
            return "a non-public address"
        return None

    embedded = _embedded_ipv4(address)
    if embedded is not None:
        form, v4 = embedded
        inner = _refusal(v4, allowed)
        return None if inner is None else f"{form} of {v4}, which is {inner}"
    for network6, description in _V6_BLOCKED:
        if address in network6:
            return description
    if address.is_multicast or address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address stands for, when traffic to it ends up there."""
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped form", address.ipv4_mapped
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # ``::`` and ``::1`` are in ::/96 too, but they are the IPv6 unspecified/loopback addresses.
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return "an IPv4-compatible form", low32
    if address in _NAT64:
        return "a NAT64 form", low32
    if address in _SIX_TO_FOUR and address.sixtofour is not None:
        return "a 6to4 form", address.sixtofour
    return None


# --------------------------------------------------------------------------- messages


def _redact(url: httpx.URL) -> str:
    """The URL for messages: no credentials, query values hidden, bounded length."""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    text = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{path}"
    if url.query:
        text += "?…"
    return _clip(text)


def _redact_raw(url: str) -> str:
    """Best effort for strings that did not even parse as URLs."""
    text = re.sub(r"//[^/?#]*@", "//", url.strip()).split("?", 1)[0].split("#", 1)[0]
    return _clip(text) or "''"


def _clip(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= _MAX_URL_CHARS else text[: _MAX_URL_CHARS - 1] + "…"


def _size(n: int) -> str:
    # Limits come from settings in MB (binary or decimal); show them the way they were written.
    for unit, binary, decimal in (("GB", 1 << 30, 10**9), ("MB", 1 << 20, 10**6)):
        for factor in (decimal, binary):
            if n >= factor and n % factor == 0:
                return f"{n // factor} {unit}"
        if n >= binary:
            return f"{n / binary:.3g} {unit}"
    return f"{n / 1024:.3g} kB" if n >= 1024 else f"{n} bytes"


def _show(address: Address) -> str:
    # Python 3.11 prints ::ffff:127.0.0.1 as ::ffff:7f00:1, which hides what matters.
    mapped = getattr(address, "ipv4_mapped", None)
    return f"::ffff:{mapped}" if mapped is not None else str(address)


def _status_phrase(status: int) -> str:
    try:
        return f" {HTTPStatus(status).phrase}"
    except ValueError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _error_text(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


@dataclass
class _Hop:
    """Where we are: the URL the user gave (for messages) and the one being fetched now."""

    original: str
    url: httpx.URL
    number: int

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")

    @property
    def port(self) -> int:
        return self.url.port or 443

    def error(self, reason: FetchReason, what: str, detail: str) -> FetchError:
        """``<original> <what>: <detail> (redirected to <hop>)``."""
        via = f" (redirected to {_redact(self.url)})" if self.number else ""
        return FetchError(reason, f"{self.original} {what}: {detail}{via}")


# --------------------------------------------------------------------------- URL checks


def _parse_url(text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        shown = _redact_raw(text)
        raise FetchError("bad_url", f"{shown} is not a valid URL: {_error_text(exc)}") from None
    return _check_url(url, None)


def _check_url(url: httpx.URL, original: str | None, via: str = "") -> httpx.URL:
    """Refuse what must never be fetched; ``original`` is None for the user's own URL."""
    shown = original or _redact(url)
    problem = None
    if url.scheme != "https":
        problem = "only https:// URLs are accepted"
    elif url.userinfo:
        problem = "URLs with credentials are not accepted"
    elif not url.raw_host:
        problem = "the URL has no host"
    elif url.port is not None and not 0 < url.port < 65536:
        problem = f"{url.port} is not a valid port"
    if problem is not None:
        raise FetchError("bad_url", f"{shown} was refused: {problem}{via}")
    return url.copy_with(fragment=None)


# --------------------------------------------------------------------------- the download


async def download(
    url: str, dest: Path, policy: FetchPolicy, *, resolver: Resolver | None = None
) -> Downloaded:
    """Download ``url`` to ``dest`` under ``policy``; see the module docstring for the rules.

    ``dest``'s directory must exist; ``dest`` is overwritten. ``resolver`` replaces DNS (tests,
    or a deployment's own resolver); it is called exactly once per hop whose host is a name.
    Raises :class:`FetchError` for everything that is about the URL or the remote side.
    """
    first = _parse_url(url)
    hop = _Hop(original=_redact(first), url=first, number=0)
    resolve = resolver or system_resolver
    deadline = asyncio.timeout(policy.total_timeout)
    try:
        async with deadline:
            context = _ssl_context(policy.ca_bundle)
            while True:
                addresses = await _resolve_checked(hop, policy, resolve)
                async with _pinned_get(hop, addresses, context, policy) as response:
                    status = response.status_code
                    if status in _REDIRECT_STATUSES:
                        if hop.number >= policy.max_redirects:
                            raise FetchError(
                                "too_many_redirects",
                                f"{hop.original} was refused: "
                                f"it redirects more than {policy.max_redirects} times",
                            )
                        hop = _Hop(hop.original, _redirect_target(hop, response), hop.number + 1)
                        continue
                    if not 200 <= status < 300:
                        # The standard phrase, not the server's: it lands in a UI.
                        phrase = _status_phrase(status)
                        raise hop.error(
                            "http_error",
                            "could not be fetched",
                            f"the server answered HTTP {status}{phrase}",
                        )
                    _refuse_declared_size(hop, response, policy)
                    return await _save(hop, response, dest, policy)
    except TimeoutError:
        if not deadline.expired():
            raise
        raise FetchError(
            "timeout", f"{hop.original} timed out after {_seconds(policy.total_timeout)}"
        ) from None


def _redirect_target(hop: _Hop, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise hop.error(
            "http_error",
            "could not be fetched",
            f"the server answered HTTP {response.status_code} without a Location",
        )
    try:
        target = hop.url.join(location)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise hop.error(
            "bad_url", "was refused", f"it redirects to an invalid URL ({_error_text(exc)})"
        ) from None
    return _check_url(target, hop.original, via=f" (redirect to {_redact(target)})")


def _refuse_declared_size(hop: _Hop, response: httpx.Response, policy: FetchPolicy) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(
            "too_large", f"{hop.original} is larger than the {_size(policy.max_bytes)} limit"
        )


async def _resolve_checked(hop: _Hop, policy: FetchPolicy, resolve: Resolver) -> list[Address]:
    """Resolve the hop's host once and refuse it unless every address is allowed."""
    host = hop.host
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
        literal = True
    except ValueError:
        literal = False
        try:
            answers = await resolve(host, hop.port)
        except Exception as exc:  # an injected resolver may raise anything; it is still DNS
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else _error_text(exc)
            raise hop.error(
                "dns", "could not be fetched", f"{host} could not be resolved ({why})"
            ) from None
        try:
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except ValueError as exc:
            raise hop.error(
                "dns", "could not be fetched", f"{host} resolved to an invalid address ({exc})"
            ) from None
    if not addresses:
        raise hop.error("dns", "could not be fetched", f"{host} has no addresses")
    unique = list(dict.fromkeys(addresses))
    for address in unique:
        refusal = _refusal(address, policy.allowed_networks)
        if refusal is not None:
            shown = _show(address)
            subject = shown if literal else f"{host} resolves to {shown}, which"
            raise hop.error("blocked_address", "was refused", f"{subject} is {refusal}")
    return unique


@lru_cache(maxsize=8)
def _ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """System store + certifi (+ the operator's CA); verification and hostname checks on.

    Cached because loading certifi's bundle costs tens of milliseconds; a changed ``ca_bundle``
    file is therefore only re-read after a restart.
    """
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


@asynccontextmanager
async def _pinned_get(
    hop: _Hop, addresses: list[Address], context: ssl.SSLContext, policy: FetchPolicy
) -> AsyncIterator[httpx.Response]:
    """GET the hop's URL over a connection to one of ``addresses`` (already checked).

    Addresses are tried in order while the TCP connection itself fails (say, an IPv6 answer on a
    host without IPv6); every one of them passed the policy, so falling through is safe.
    """
    async with AsyncExitStack() as stack:
        failure: FetchError | None = None
        for address in addresses:
            try:
                response = await _send(stack, hop, address, context, policy)
            except _ConnectFailed as exc:
                failure = exc.error
                continue
            break
        else:
            assert failure is not None
            raise failure
        yield response


class _ConnectFailed(Exception):
    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


async def _send(
    stack: AsyncExitStack,
    hop: _Hop,
    address: Address,
    context: ssl.SSLContext,
    policy: FetchPolicy,
) -> httpx.Response:
    # A fresh client per hop: no cookies, and no pooled connection (verified for another name)
    # can be reused for a different host that happens to share the IP.
    client = httpx.AsyncClient(
        verify=context,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(None, connect=policy.connect_timeout),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
    )
    phases: set[str] = set()

    async def trace(event: str, info: dict[str, Any]) -> None:
        phases.add(event)

    pinned = hop.url.copy_with(host=str(address))
    request = client.build_request(
        "GET",
        pinned,
        headers={
            "Host": hop.url.netloc.decode("ascii"),
            "User-Agent": policy.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        },
        # httpcore hands sni_hostname to ssl as server_hostname: SNI and the certificate's
        # hostname check use the real name while the socket goes to the pinned address.
        extensions={"sni_hostname": hop.host, "trace": trace},
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        target = f"{hop.host} ({address})" if hop.host != str(address) else hop.host
        in_handshake = (
            "connection.start_tls.started" in phases
            and "connection.start_tls.complete" not in phases
        )
        ssl_error = _ssl_cause(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            # connect_timeout bounds the TCP connect and the TLS handshake alike.
            detail = f"connecting to {target} timed out after {_seconds(policy.connect_timeout)}"
        elif ssl_error is not None or (in_handshake and isinstance(exc, httpx.ConnectError)):
            raise hop.error(
                "tls", "could not be fetched", _tls_detail(hop.host, ssl_error)
            ) from None
        elif isinstance(exc, httpx.ConnectError):
            detail = f"could not connect to {target} ({_error_text(exc)})"
        else:
            raise hop.error(
                "connect",
                "could not be fetched",
                f"{target} sent no valid response ({_error_text(exc)})",
            ) from None
        raise _ConnectFailed(hop.error("connect", "could not be fetched", detail)) from None
    except BaseException:
        await client.aclose()
        raise
    stack.push_async_callback(client.aclose)
    stack.push_async_callback(response.aclose)
    return response


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _tls_detail(host: str, error: ssl.SSLError | None) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        why = error.verify_message or error.reason or "verification failed"
        return f"the TLS certificate of {host} could not be verified ({str(why).rstrip('.')})"
    why = (error.reason if error is not None else None) or "the connection was closed"
    return f"the TLS handshake with {host} failed ({why})"


async def _save(hop: _Hop, response: httpx.Response, dest: Path, policy: FetchPolicy) -> Downloaded:
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray()
    sink = _create(dest)
    try:
        try:
            # Raw bytes: whatever Content-Encoding the server insists on is stored, not expanded.
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > policy.max_bytes:
                    raise FetchError(
                        "too_large",
                        f"{hop.original} is larger than the {_size(policy.max_bytes)} limit",
                    )
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= _FLUSH_BYTES:
                    await asyncio.to_thread(sink.write, buffer)
                    buffer = bytearray()
        except httpx.HTTPError as exc:
            raise hop.error(
                "connect",
                "could not be fetched",
                f"the connection broke off after {size:,} bytes ({_error_text(exc)})",
            ) from None
        if buffer:
            await asyncio.to_thread(sink.write, buffer)
        await asyncio.to_thread(sink.flush)
    except BaseException:
        # Also on cancellation (the total deadline arrives as one): a half-written file must never
        # look like a finished download. Synchronous on purpose, as nothing may be awaited here;
        # close() waits, via the file's lock, for a write still running in a worker thread.
        sink.close()
        _discard(dest)
        raise
    sink.close()
    return Downloaded(
        path=dest,
        bytes=size,
        sha256=digest.hexdigest(),
        content_type=response.headers.get("content-type"),
        final_url=str(hop.url),
    )


def _create(path: Path) -> BinaryIO:
    # Not via a thread: a cancellation while the thread runs would leave the file (and its
    # descriptor) behind with nobody to remove it. Creating a file is a quick metadata operation.
    return path.open("wb")


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
