"""Tests for the SSRF-safe downloader (``videostudio.media.fetch``).

Contract locked here (downloads are real HTTPS against ``tests.https_server``):

* only ``https://`` URLs without credentials are fetched, on every hop; anything else is
  ``bad_url``, and messages never echo credentials or query strings;
* an address is refused unless public, judged on the *resolved* IPs (literals, names, every
  answer of a split DNS reply), with IPv4-mapped / compatible / NAT64 / 6to4 forms judged by their
  IPv4 address; the operator allow-list wins over the block-list; a refused host is never
  contacted, including when a redirect points at it;
* the connection is pinned: the resolver is called exactly once per hop and the socket goes to the
  address it returned, while SNI, certificate hostname verification and the ``Host`` header use
  the original name (a certificate for another name fails with ``tls``);
* redirects are followed manually, at most ``max_redirects`` of them;
* the body is streamed to ``dest``: sha256 and size match, the cap holds with and without
  ``Content-Length`` (early refusal when declared), memory stays bounded, nothing is decompressed,
  and a failed or cancelled download leaves no partial file;
* ``total_timeout`` cuts off servers that stall or trickle; HTTP errors report the status code;
* ``str(FetchError)`` is a sentence of at most 300 characters starting with the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import ipaddress
import pickle
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.https_server import TEST_HOSTNAME, HTTPSFileServer, ipv6_loopback_available
from videostudio.media.fetch import (
    Downloaded,
    FetchError,
    FetchPolicy,
    Resolver,
    address_refusal,
    download,
    parse_networks,
    system_resolver,
)

LOCAL = parse_networks("127.0.0.1/32")
MB = 1 << 20


def policy(server: HTTPSFileServer | None = None, /, **overrides: object) -> FetchPolicy:
    """The policy tests use: the local server allowed and trusted, short timeouts."""
    values: dict[str, object] = {
        "max_bytes": 10 * MB,
        "connect_timeout": 2.0,
        "total_timeout": 5.0,
        "allowed_networks": LOCAL if server else (),
        "ca_bundle": server.ca_path if server else None,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


class ScriptedResolver:
    """Answers from a script (one list per call, the last repeats) and records every call."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return list(self.answers[min(len(self.calls), len(self.answers)) - 1])


async def localhost_is_127_0_0_1(host: str, port: int) -> list[str]:
    """The system resolver, except that ``localhost`` is 127.0.0.1 only.

    Hosts files differ (some list ::1 first), and the test server listens on 127.0.0.1.
    """
    return ["127.0.0.1"] if host == "localhost" else await system_resolver(host, port)


async def fetch(
    url: str, dest: Path, pol: FetchPolicy, resolver: Resolver | None = localhost_is_127_0_0_1
) -> Downloaded:
    return await download(url, dest, pol, resolver=resolver)


async def fetch_error(
    url: str, dest: Path, pol: FetchPolicy, resolver: Resolver | None = localhost_is_127_0_0_1
) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await download(url, dest, pol, resolver=resolver)
    message = str(caught.value)
    assert 0 < len(message) <= 300
    return caught.value


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "input.bin"


# Tiny synchronous file checks (async tests may not touch pathlib directly, per ruff ASYNC240).
def gone(path: Path) -> bool:
    return not path.exists()


def content(path: Path) -> bytes:
    return path.read_bytes()


# --------------------------------------------------------------------------- address policy


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "the unspecified address"),
        ("0.1.2.3", "a 'this network' address"),
        ("255.255.255.255", "the broadcast address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("192.0.2.7", "a documentation address"),
        ("198.18.0.1", "a benchmarking address"),
        ("2606:4700:4700::1111", None),
        ("::1", "a loopback address"),
        ("::", "the unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fd00::1", "a unique-local address"),
        ("fc00::1", "a unique-local address"),
        ("fec0::1", "a site-local address"),
        ("ff02::1", "a multicast address"),
        ("2001:db8::1", "a documentation address"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo address"),
        ("100::1", "a discard-only address"),
        ("64:ff9b:1::a00:1", "a local-use NAT64 address"),
        ("::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, which is a loopback address"),
        (
            "::ffff:a9fe:a9fe",
            "an IPv4-mapped form of 169.254.169.254, which is a link-local address",
        ),
        ("::ffff:8.8.8.8", None),
        ("::127.0.0.1", "an IPv4-compatible form of 127.0.0.1, which is a loopback address"),
        ("64:ff9b::10.0.0.1", "a NAT64 form of 10.0.0.1, which is a private address"),
        ("64:ff9b::8.8.8.8", None),
        ("2002:a00:1::1", "a 6to4 form of 10.0.0.1, which is a private address"),
        ("2002:7f00:1::", "a 6to4 form of 127.0.0.1, which is a loopback address"),
        ("2002:808:808::1", None),
    ],
)
def test_address_refusal(ip: str, reason: str | None) -> None:
    assert address_refusal(ip, ()) == reason


def test_allow_list_wins_over_the_block_list() -> None:
    assert address_refusal("127.0.0.1", LOCAL) is None
    assert address_refusal("10.20.3.4", parse_networks("10.20.0.0/16")) is None
    assert address_refusal("fd00::1", parse_networks("fd00::/8")) is None
    # Embedded IPv4 forms are judged, allow-list included, by their IPv4 address.
    assert address_refusal("::ffff:127.0.0.1", LOCAL) is None
    # Neighbours of an allowed address stay refused.
    assert address_refusal("127.0.0.2", LOCAL) == "a loopback address"
    assert address_refusal("::1", LOCAL) == "a loopback address"
    # An IPv6 allow-list entry never admits IPv4 addresses (and vice versa).
    assert address_refusal("127.0.0.1", parse_networks("::/0")) == "a loopback address"
    assert address_refusal("::1", parse_networks("0.0.0.0/0")) == "a loopback address"


def test_address_refusal_rejects_non_addresses() -> None:
    with pytest.raises(ValueError):
        address_refusal("example.com", ())


def test_parse_networks() -> None:
    v4, v6 = ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")
    assert parse_networks("127.0.0.1/32, ::1/128") == (v4, v6)
    assert parse_networks(" 127.0.0.1 ,, \n::1 ") == (v4, v6)
    assert parse_networks(["127.0.0.1/32", "::1", "127.0.0.1"]) == (v4, v6)
    assert parse_networks("") == ()
    assert parse_networks("10.1.2.3/8") == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("junk", ["localhost", "10.0.0.0/33", "10.0.0", "fd00::/200", "*"])
def test_parse_networks_errors_name_the_culprit(junk: str) -> None:
    with pytest.raises(ValueError, match="is not a network") as caught:
        parse_networks(f"127.0.0.1/32, {junk}")
    assert repr(junk) in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    [{"max_bytes": -1}, {"max_redirects": -1}, {"total_timeout": 0}, {"connect_timeout": -1.0}],
)
def test_policy_rejects_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        policy(**bad)


def test_fetch_error_is_bounded_and_picklable() -> None:
    error = FetchError("timeout", "x" * 1000)
    assert len(str(error)) == 300 and error.reason == "timeout"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, str(copy)) == ("timeout", str(error))


# --------------------------------------------------------------------------- real downloads


async def test_download_streams_the_body_to_dest(https_server: HTTPSFileServer, dest: Path) -> None:
    body = bytes(range(256)) * 4096 + b"tail"
    https_server.add_file("/clip.mp4", body, "video/mp4")

    result = await fetch(https_server.url("/clip.mp4"), dest, policy(https_server))

    assert result == Downloaded(
        path=dest,
        bytes=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        content_type="video/mp4",
        final_url=https_server.url("/clip.mp4"),
    )
    assert content(dest) == body
    (request,) = https_server.requests
    assert request.host == f"localhost:{https_server.port}"
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["user-agent"] == "VideoStudio-Fetcher/1.0"
    assert "cookie" not in request.headers


async def test_ip_literal_url_verifies_the_ip_in_the_certificate(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_file("/a.png", b"png", "image/png")
    result = await fetch(https_server.ip_url("/a.png"), dest, policy(https_server))
    assert result.bytes == 3
    assert https_server.hosts == [f"127.0.0.1:{https_server.port}"]


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback here")
async def test_ipv6_literal_download(dest: Path) -> None:
    with HTTPSFileServer("::1") as server:
        server.add_file("/a", b"six", "text/plain")
        pol = policy(server, allowed_networks=parse_networks("::1/128"))
        result = await fetch(server.ip_url("/a"), dest, pol)
        assert content(dest) == b"six" and result.final_url == server.ip_url("/a")
        assert server.hosts == [f"[::1]:{server.port}"]


async def test_connection_is_pinned_to_the_checked_address(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    # TEST_HOSTNAME resolves nowhere but through this resolver, whose later answers would be
    # refused: success proves the one checked answer is the one connected to.
    https_server.add_file("/a", b"pinned", "text/plain")
    resolver = ScriptedResolver(["127.0.0.1"], ["10.0.0.1"])
    url = https_server.url("/a", host=TEST_HOSTNAME)

    result = await fetch(url, dest, policy(https_server), resolver=resolver)

    assert result.bytes == 6 and result.final_url == url
    assert resolver.calls == [(TEST_HOSTNAME, https_server.port)]
    assert https_server.hosts == [f"{TEST_HOSTNAME}:{https_server.port}"]


async def test_resolver_is_called_once_per_hop(https_server: HTTPSFileServer, dest: Path) -> None:
    https_server.add_redirect("/one", "/two", status=301)
    https_server.add_redirect("/two", https_server.url("/file", host=TEST_HOSTNAME), status=307)
    https_server.add_file("/file", b"done", "text/plain")
    resolver = ScriptedResolver(["127.0.0.1"])

    url = https_server.url("/one", host=TEST_HOSTNAME)
    result = await fetch(url, dest, policy(https_server), resolver=resolver)

    assert result.final_url == https_server.url("/file", host=TEST_HOSTNAME)
    assert content(dest) == b"done"
    assert resolver.calls == [(TEST_HOSTNAME, https_server.port)] * 3
    assert [r.path for r in https_server.requests] == ["/one", "/two", "/file"]


async def test_falls_through_to_the_next_checked_address_when_connecting_fails(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    # Nothing listens on 127.0.0.2 at this port; both answers are allowed, so trying the next is
    # safe (think of an AAAA answer on a host without IPv6).
    https_server.add_file("/a", b"ok", "text/plain")
    resolver = ScriptedResolver(["127.0.0.2", "127.0.0.1"])
    pol = policy(https_server, allowed_networks=parse_networks("127.0.0.0/8"))
    url = https_server.url("/a", host=TEST_HOSTNAME)
    assert (await fetch(url, dest, pol, resolver=resolver)).bytes == 2
    assert len(resolver.calls) == 1


async def test_certificate_for_another_name_fails_even_when_pinned(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_file("/a", b"x", "text/plain")
    resolver = ScriptedResolver(["127.0.0.1"])
    url = https_server.url("/a", host="other.videostudio.test")

    error = await fetch_error(url, dest, policy(https_server), resolver=resolver)

    assert error.reason == "tls"
    assert "other.videostudio.test" in str(error)
    assert https_server.requests == [] and gone(dest)


async def test_pinned_connection_verifies_the_name_not_the_ip(dest: Path) -> None:
    # A certificate for "localhost" only: fine for https://localhost pinned to 127.0.0.1, but not
    # for https://127.0.0.1 (the IP literal is what gets verified then).
    with HTTPSFileServer(cert_names=("localhost",)) as server:
        server.add_file("/a", b"ok", "text/plain")
        assert (await fetch(server.url("/a"), dest, policy(server))).bytes == 2
        error = await fetch_error(server.ip_url("/a"), dest, policy(server))
        assert error.reason == "tls" and "127.0.0.1" in str(error)
        assert server.hosts == [f"localhost:{server.port}"]


async def test_certificate_of_an_untrusted_ca_fails(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_file("/a", b"x", "text/plain")
    pol = policy(https_server, ca_bundle=None)
    error = await fetch_error(https_server.url("/a"), dest, pol)
    assert error.reason == "tls" and "could not be verified" in str(error)
    assert https_server.requests == []


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("https://10.0.0.1/x", "10.0.0.1 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/x", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/x", "::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1"),
        ("https://0.0.0.0/x", "0.0.0.0 is the unspecified address"),
        ("https://100.64.0.1/x", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("https://[fd00::1]:8443/x", "fd00::1 is a unique-local address"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "a NAT64 form of 169.254.169.254"),
    ],
)
async def test_internal_address_literals_are_refused(url: str, detail: str, dest: Path) -> None:
    resolver = ScriptedResolver(["8.8.8.8"])
    error = await fetch_error(url, dest, policy(), resolver=resolver)
    assert error.reason == "blocked_address"
    assert str(error).startswith(url.split("/x")[0]) and detail in str(error)
    assert resolver.calls == []  # literals are judged as they are


async def test_loopback_server_is_never_contacted_without_the_allow_list(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_file("/a", b"secret", "text/plain")
    error = await fetch_error(
        https_server.ip_url("/a"), dest, policy(ca_bundle=https_server.ca_path)
    )
    assert error.reason == "blocked_address"
    assert str(error) == (
        f"{https_server.ip_url('/a')} was refused: 127.0.0.1 is a loopback address"
    )
    assert https_server.connections == 0


async def test_names_are_judged_by_what_they_resolve_to(dest: Path) -> None:
    resolver = ScriptedResolver(["10.1.2.3"])
    error = await fetch_error("https://media.example.com/a.png", dest, policy(), resolver=resolver)
    assert error.reason == "blocked_address"
    assert str(error) == (
        "https://media.example.com/a.png was refused: "
        "media.example.com resolves to 10.1.2.3, which is a private address"
    )


async def test_one_refused_answer_refuses_the_url(dest: Path) -> None:
    resolver = ScriptedResolver(["93.184.216.34", "::ffff:192.168.0.1"])
    error = await fetch_error("https://split.example.com/", dest, policy(), resolver=resolver)
    assert error.reason == "blocked_address" and "192.168.0.1" in str(error)


async def test_system_resolver_is_used_by_default(dest: Path) -> None:
    error = await fetch_error("https://localhost:9/x", dest, policy(), resolver=None)
    assert error.reason == "blocked_address" and "localhost resolves to" in str(error)


async def test_redirect_to_a_private_address_is_refused(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_redirect("/r", "https://10.0.0.1/x")
    error = await fetch_error(https_server.url("/r"), dest, policy(https_server))
    assert error.reason == "blocked_address"
    assert str(error) == (
        f"{https_server.url('/r')} was refused: 10.0.0.1 is a private address "
        "(redirected to https://10.0.0.1/x)"
    )


async def test_redirect_outside_the_allow_list_never_reaches_the_other_host(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    try:
        other = HTTPSFileServer("127.0.0.2").start()
    except OSError as exc:  # pragma: no cover - platforms without 127/8 on loopback
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    try:
        other.add_file("/x", b"internal", "text/plain")
        https_server.add_redirect("/r", other.ip_url("/x"))
        error = await fetch_error(https_server.url("/r"), dest, policy(https_server))
        assert error.reason == "blocked_address" and "127.0.0.2 is a loopback" in str(error)
        assert other.connections == 0
    finally:
        other.stop()


async def test_redirect_to_plain_http_is_refused(https_server: HTTPSFileServer, dest: Path) -> None:
    https_server.add_redirect("/r", f"http://localhost:{https_server.port}/a")
    error = await fetch_error(https_server.url("/r"), dest, policy(https_server))
    assert error.reason == "bad_url" and "only https://" in str(error)
    assert str(error).startswith(https_server.url("/r"))


@pytest.mark.parametrize("max_redirects", [0, 2])
async def test_too_many_redirects(
    https_server: HTTPSFileServer, dest: Path, max_redirects: int
) -> None:
    https_server.add_redirect("/loop", "/loop")
    pol = policy(https_server, max_redirects=max_redirects)
    error = await fetch_error(https_server.url("/loop"), dest, pol)
    assert error.reason == "too_many_redirects"
    assert f"more than {max_redirects} times" in str(error)
    assert https_server.request_count("/loop") == max_redirects + 1


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a.png",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "https://user:hunter2@example.com/a.png",
        "https:///a.png",
        "https://example.com:99999/a.png",
        "not a url",
        "",
    ],
)
async def test_bad_urls(url: str, dest: Path) -> None:
    resolver = ScriptedResolver(["8.8.8.8"])
    error = await fetch_error(url, dest, policy(), resolver=resolver)
    assert error.reason == "bad_url"
    assert "hunter2" not in str(error)
    assert resolver.calls == []


async def test_messages_hide_query_strings(dest: Path) -> None:
    error = await fetch_error("https://10.0.0.1/a.png?X-Amz-Signature=s3cr3t", dest, policy())
    assert "s3cr3t" not in str(error)
    assert str(error).startswith("https://10.0.0.1/a.png?… was refused")


# --------------------------------------------------------------------------- size, time, errors


async def test_declared_length_over_the_cap_is_refused_before_the_body(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_stall("/big", b"x" * 100, content_length=200 * MB)
    error = await fetch_error(
        https_server.url("/big"), dest, policy(https_server, max_bytes=100 * MB)
    )
    assert error.reason == "too_large"
    assert str(error) == f"{https_server.url('/big')} is larger than the 100 MB limit"
    assert gone(dest)


@pytest.mark.parametrize("send_length", [True, False])
async def test_body_over_the_cap_is_cut_off_and_removed(
    https_server: HTTPSFileServer, dest: Path, send_length: bool
) -> None:
    https_server.add_file("/big", b"\0" * (3 * MB), send_length=send_length)
    pol = policy(https_server, max_bytes=MB)
    if send_length:
        error = await fetch_error(https_server.url("/big"), dest, pol)
    else:
        tracemalloc.start()
        try:
            error = await fetch_error(https_server.url("/big"), dest, pol)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < MB  # the cap was reached without holding the body
    assert error.reason == "too_large" and "1 MB limit" in str(error)
    assert gone(dest)


async def test_body_at_the_cap_is_accepted(https_server: HTTPSFileServer, dest: Path) -> None:
    https_server.add_file("/exact", b"a" * 1000, send_length=False)
    result = await fetch(https_server.url("/exact"), dest, policy(https_server, max_bytes=1000))
    assert result.bytes == 1000 == len(content(dest))


async def test_memory_stays_bounded_for_large_bodies(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    body = b"\x7f" * (8 * MB)
    https_server.add_file("/large", body, send_length=False)
    tracemalloc.start()
    try:
        result = await fetch(
            https_server.url("/large"), dest, policy(https_server, max_bytes=9 * MB)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.bytes == len(body) == len(content(dest))
    assert peak < 3 * MB


async def test_compressed_bodies_are_stored_as_sent(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    # A 10 MB bomb in 10 kB: counting and storing the raw bytes keeps it at 10 kB.
    bomb = gzip.compress(b"\0" * (10 * MB))
    https_server.add_file("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    result = await fetch(https_server.url("/bomb"), dest, policy(https_server, max_bytes=MB))
    assert result.bytes == len(bomb) and content(dest) == bomb


@pytest.mark.parametrize("kind", ["stall", "trickle"])
async def test_total_timeout_cuts_off_slow_servers(
    https_server: HTTPSFileServer, dest: Path, kind: str
) -> None:
    if kind == "stall":
        https_server.add_stall("/slow", b"first bytes", content_length=1000)
    else:
        https_server.add_trickle("/slow", b"z" * 1000, interval=0.05)
    pol = policy(https_server, total_timeout=0.8)
    started = time.monotonic()
    error = await fetch_error(https_server.url("/slow"), dest, pol)
    elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert str(error) == f"{https_server.url('/slow')} timed out after 0.8 s"
    assert 0.7 <= elapsed < 2.0
    assert gone(dest)


async def test_cancellation_propagates_and_removes_the_partial_file(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_stall("/slow", b"partial", content_length=1000)
    task = asyncio.create_task(download(https_server.url("/slow"), dest, policy(https_server)))
    for _ in range(200):
        if not gone(dest):
            break
        await asyncio.sleep(0.01)
    assert not gone(dest)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(dest)


async def test_http_errors_name_the_status(https_server: HTTPSFileServer, dest: Path) -> None:
    https_server.add_status("/gone", 404, b"nope")
    error = await fetch_error(https_server.url("/gone"), dest, policy(https_server))
    assert error.reason == "http_error"
    assert str(error) == (
        f"{https_server.url('/gone')} could not be fetched: the server answered HTTP 404 Not Found"
    )
    assert gone(dest)


async def test_redirect_without_location_is_an_http_error(
    https_server: HTTPSFileServer, dest: Path
) -> None:
    https_server.add_status("/r", 302)
    error = await fetch_error(https_server.url("/r"), dest, policy(https_server))
    assert error.reason == "http_error" and "302" in str(error)


async def test_connection_broken_mid_body(https_server: HTTPSFileServer, dest: Path) -> None:
    def route(handler: object, stopping: threading.Event) -> None:
        handler.send_response(200)  # type: ignore[attr-defined]
        handler.send_header("Content-Length", "1000")  # type: ignore[attr-defined]
        handler.end_headers()  # type: ignore[attr-defined]
        handler.wfile.write(b"only ten b")  # type: ignore[attr-defined]
        handler.close_connection = True  # type: ignore[attr-defined]

    https_server.add_route("/cut", route)
    error = await fetch_error(https_server.url("/cut"), dest, policy(https_server))
    assert error.reason == "connect" and "after 10 bytes" in str(error)
    assert gone(dest)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused(dest: Path) -> None:
    url = f"https://127.0.0.1:{_free_port()}/a"
    error = await fetch_error(url, dest, policy(allowed_networks=LOCAL))
    assert error.reason == "connect" and "could not connect to 127.0.0.1" in str(error)


async def _raises_gaierror(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def _answers_nothing(host: str, port: int) -> list[str]:
    return []


async def _answers_junk(host: str, port: int) -> list[str]:
    return ["not-an-ip"]


@pytest.mark.parametrize(
    ("resolver", "detail"),
    [
        (_raises_gaierror, "could not be resolved (Name or service not known)"),
        (_answers_nothing, "has no addresses"),
        (_answers_junk, "resolved to an invalid address"),
    ],
)
async def test_dns_failures(resolver: Resolver, detail: str, dest: Path) -> None:
    error = await fetch_error("https://nowhere.example/a", dest, policy(), resolver=resolver)
    assert error.reason == "dns" and detail in str(error)


class RawServer:
    """A plain TCP listener on 127.0.0.1 whose every connection is handled by ``behaviour``."""

    def __init__(self, behaviour: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.behaviour = behaviour
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while True:
                connection, _ = self.listener.accept()
                with connection:
                    self.behaviour(connection)
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()


def _speak_plain_http(connection: socket.socket) -> None:
    connection.recv(4096)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _hang_up(connection: socket.socket) -> None:
    pass


def _stay_silent(connection: socket.socket) -> None:
    # Read the ClientHello and everything after it, answer nothing, until the client gives up.
    connection.settimeout(2)
    with contextlib.suppress(OSError):
        while connection.recv(4096):
            pass


@pytest.mark.parametrize(
    ("behaviour", "reason", "detail"),
    [
        (_speak_plain_http, "tls", "TLS handshake with 127.0.0.1 failed"),
        (_hang_up, "tls", "TLS handshake with 127.0.0.1 failed"),
        (_stay_silent, "connect", "connecting to 127.0.0.1 timed out after 0.3 s"),
    ],
)
async def test_servers_that_do_not_speak_tls(
    behaviour: Callable[[socket.socket], None], reason: str, detail: str, dest: Path
) -> None:
    server = RawServer(behaviour)
    try:
        pol = policy(allowed_networks=LOCAL, connect_timeout=0.3)
        error = await fetch_error(f"https://127.0.0.1:{server.port}/a", dest, pol)
    finally:
        server.close()
    assert error.reason == reason and detail in str(error)


async def test_server_closing_before_answering(https_server: HTTPSFileServer, dest: Path) -> None:
    def route(handler: object, stopping: threading.Event) -> None:
        handler.close_connection = True  # type: ignore[attr-defined]

    https_server.add_route("/nothing", route)
    error = await fetch_error(https_server.url("/nothing"), dest, policy(https_server))
    assert error.reason == "connect" and "sent no valid response" in str(error)
