"""A real, local HTTPS server for tests that download things (``videostudio.media.fetch``, jobs).

::

    with HTTPSFileServer() as server:
        server.add_file("/cat.png", png_bytes, "image/png")
        server.add_redirect("/old", "/cat.png")
        url = server.url("/cat.png")        # https://localhost:PORT/cat.png
        ...                                 # trust server.ca_path (PEM), allow 127.0.0.1/32
        assert server.request_count("/cat.png") == 1

- TLS is real: a throw-away CA from ``trustme`` (one per test process) signs a certificate for
  ``localhost``, ``127.0.0.1``, ``::1`` and :data:`TEST_HOSTNAME`. That last name resolves nowhere,
  which makes it handy for code under test that takes an injected resolver: if a request arrives
  for it, the code must have connected to the address its resolver gave.
- Each connection is served on its own daemon thread; the TLS handshake happens there (not in the
  accept loop), so a client that stalls or fails the handshake never blocks other clients.
- :meth:`HTTPSFileServer.stop` is prompt: handlers that stall or trickle wake up, and open
  connections are shut down, so a test never waits on a route it left hanging.
- Every request is recorded (path, ``Host`` header, headers), and accepted TCP connections are
  counted, so a test can prove a host was *never contacted*.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import trustme

TEST_HOSTNAME = "media.videostudio.test"
CERT_NAMES = ("localhost", "127.0.0.1", "::1", TEST_HOSTNAME)

# A route writes one whole response. ``stopping`` is set when the server stops: anything that
# waits must wait on it, so that shutdown stays prompt.
Route = Callable[["_Handler", threading.Event], None]

_CHUNK = 64 * 1024


@lru_cache(maxsize=1)
def test_ca() -> trustme.CA:
    """The process-wide test CA (creating keys is the slow part, so it happens once)."""
    return trustme.CA()


@lru_cache(maxsize=8)
def _leaf(names: tuple[str, ...]) -> trustme.LeafCert:
    return test_ca().issue_cert(*names)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    host: str | None
    headers: Mapping[str, str]


class HTTPSFileServer:
    """A threaded HTTPS server with registered routes; use as a context manager.

    ``host`` is the address to bind (``127.0.0.1``, ``::1``, ``127.0.0.2``, ...). ``cert_names``
    are the names the certificate is valid for (change it to test hostname verification).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        cert_names: tuple[str, ...] = CERT_NAMES,
        socket_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.cert_names = cert_names
        self.socket_timeout = socket_timeout
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._open: set[ssl.SSLSocket] = set()
        self._stopping = threading.Event()
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._ca_path: Path | None = None
        self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        _leaf(self.cert_names).configure_cert(self.tls_context)
        self._tmp = tempfile.TemporaryDirectory(prefix="videostudio-https-")
        self._ca_path = Path(self._tmp.name) / "ca.pem"
        test_ca().cert_pem.write_to_path(str(self._ca_path))
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _TLSServer((self.host, 0), self, family)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"https-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            with self._lock:
                still_open = list(self._open)
            for connection in still_open:
                # The plain socket's shutdown (not SSLSocket's): it only needs to wake up a
                # thread blocked in send or recv on this connection, without a TLS goodbye.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return int(self._server.server_address[1])

    @property
    def ca_path(self) -> Path:
        """PEM file of the CA that signed the server's certificate (trust it in clients)."""
        assert self._ca_path is not None, "the server is not started"
        return self._ca_path

    @property
    def ca(self) -> trustme.CA:
        return test_ca()

    def url(self, path: str = "/", host: str = "localhost") -> str:
        """``https://localhost:PORT/path`` (or another ``host`` name, e.g. TEST_HOSTNAME)."""
        return f"https://{_bracket(host)}:{self.port}{_slash(path)}"

    def ip_url(self, path: str = "/") -> str:
        """The URL with the bound IP literal as host, e.g. ``https://127.0.0.1:PORT/path``."""
        return self.url(path, host=self.host)

    # ------------------------------------------------------------------ routes

    def add_route(self, path: str, route: Route) -> None:
        """Serve ``path`` (exact path with query, else the path alone) with ``route``."""
        with self._lock:
            self._routes[_slash(path)] = route

    def add_file(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        *,
        send_length: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve ``body``; without ``send_length`` it is delimited by closing the connection."""

        def route(handler: _Handler, stopping: threading.Event) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            _length_or_close(handler, len(body) if send_length else None)
            view = memoryview(body)
            for start in range(0, len(view), _CHUNK):
                if stopping.is_set():
                    return
                handler.wfile.write(view[start : start + _CHUNK])

        self.add_route(path, route)

    def add_redirect(self, path: str, location: str, status: int = 302) -> None:
        def route(handler: _Handler, stopping: threading.Event) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.add_route(path, route)

    def add_status(
        self, path: str, code: int, body: bytes = b"", content_type: str = "text/plain"
    ) -> None:
        def route(handler: _Handler, stopping: threading.Event) -> None:
            handler.send_response(code)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.add_route(path, route)

    def add_stall(
        self,
        path: str,
        after_bytes: bytes = b"",
        content_length: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> None:
        """Send headers and ``after_bytes``, then hang until the server stops."""

        def route(handler: _Handler, stopping: threading.Event) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            _length_or_close(handler, content_length)
            handler.wfile.write(after_bytes)
            stopping.wait()

        self.add_route(path, route)

    def add_trickle(
        self,
        path: str,
        body: bytes,
        interval: float = 0.1,
        *,
        send_length: bool = True,
        content_type: str = "application/octet-stream",
    ) -> None:
        """Send ``body`` one byte every ``interval`` seconds (beats per-read timeouts)."""

        def route(handler: _Handler, stopping: threading.Event) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            _length_or_close(handler, len(body) if send_length else None)
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                if stopping.wait(interval):
                    return

        self.add_route(path, route)

    # ------------------------------------------------------------------ what happened

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def hosts(self) -> list[str | None]:
        """The ``Host`` header of every request, in order."""
        return [request.host for request in self.requests]

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (counted before the TLS handshake)."""
        with self._lock:
            return self._connections

    def request_count(self, path: str) -> int:
        """Requests for ``path`` (query strings ignored)."""
        key = urlsplit(_slash(path)).path
        return sum(1 for request in self.requests if urlsplit(request.path).path == key)

    # ------------------------------------------------------------------ internals

    def _accepted(self, connection: ssl.SSLSocket) -> None:
        with self._lock:
            self._connections += 1
            self._open.add(connection)

    def _closed(self, connection: ssl.SSLSocket) -> None:
        with self._lock:
            self._open.discard(connection)

    def _dispatch(self, handler: _Handler) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        record = RecordedRequest(handler.command, handler.path, headers.get("host"), headers)
        with self._lock:
            self._requests.append(record)
            route = self._routes.get(handler.path) or self._routes.get(urlsplit(handler.path).path)
        if route is None:
            handler.send_error(404)
            return
        route(handler, self._stopping)


def _length_or_close(handler: _Handler, length: int | None) -> None:
    if length is None:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    else:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def _slash(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: HTTPSFileServer, family: int) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), which can be slow offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "localhost"
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[Any, Any]:
        plain, address = self.socket.accept()
        # The handshake is done by the handler thread (see _Handler.setup).
        connection = self.owner.tls_context.wrap_socket(
            plain, server_side=True, do_handshake_on_connect=False
        )
        self.owner._accepted(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        self.owner._closed(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        # Clients that reject the certificate, hang up or get cut off are routine in these tests.
        if isinstance(error, OSError | ValueError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TLSServer
    request: ssl.SSLSocket

    def setup(self) -> None:
        self.request.settimeout(self.server.owner.socket_timeout)
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self.server.owner._dispatch(self)

    def do_HEAD(self) -> None:
        self.server.owner._dispatch(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def ipv6_loopback_available() -> bool:
    """Whether ``::1`` can be bound here (containers often lack IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True
