"""Serving the fakes' WSGI apps on 127.0.0.1: from a background thread (tests, benchmarks) or from
the main thread until SIGTERM (their command lines). Request log lines carry the path only: queries
and bodies carry codes, tokens and secrets."""

from __future__ import annotations

import contextlib
import signal
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sandbox.processes import LOOPBACK


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None
    """Set: each connection is wrapped in this server context (ServesTls)."""
    url_scheme = "http"


def _logging_handler(label: str) -> type[WSGIRequestHandler]:
    class LoggingHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            sys.stderr.write(f"{label}: {self.command} {self.path.split('?')[0]} {code}\n")

        def log_message(self, format, *args):  # `format`: the stdlib's parameter name
            sys.stderr.write(f"{label}: {(format % args).split('?')[0]}\n")

    return LoggingHandler


class _QuietHandler(WSGIRequestHandler):
    """In-process use logs nothing: the caller has the responses."""

    def log_message(self, format, *args):  # `format`: the stdlib's parameter name
        pass


class ServesTls(socketserver.StreamRequestHandler):
    """Mixin for a request handler: wraps each accepted socket in the server's `tls` context, when it has
    one. The handshake runs in the connection's own thread, so a stalled client holds up no other."""

    handshake_failed = False

    def setup(self) -> None:
        tls: ssl.SSLContext | None = getattr(self.server, "tls", None)
        if tls is not None:
            try:
                self.request = tls.wrap_socket(self.request, server_side=True)
            except OSError:  # ssl.SSLError too: the client refused the certificate or hung up
                self.handshake_failed = True
        super().setup()

    def handle(self) -> None:
        if not self.handshake_failed:
            super().handle()


class _QuietTlsHandler(ServesTls, _QuietHandler):
    """HTTPS: the app sees `wsgi.url_scheme` https, as behind any TLS server."""

    def get_environ(self) -> dict:
        return {**super().get_environ(), "HTTPS": "on"}


@contextlib.contextmanager
def in_background(server: socketserver.TCPServer) -> Iterator[str]:
    """Run a bound loopback server from a background thread; yields its base URL (https when the server's
    `url_scheme` says so), then stops it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{getattr(server, 'url_scheme', 'http')}://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def running(app: Callable, port: int = 0, tls: ssl.SSLContext | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve the WSGI `app` from a background thread, over HTTPS with `tls` (a server context, see
    sandbox.tls); yields its base URL."""
    server = make_server(
        LOOPBACK,
        port,
        app,
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler if tls is None else _QuietTlsHandler,
    )
    if tls is not None:
        server.tls, server.url_scheme = tls, "https"
    return in_background(server)


def serve(app: Callable, port: int, label: str) -> None:
    """Serve on 127.0.0.1 from the main thread until SIGTERM or Ctrl-C, one log line per request."""
    with make_server(
        LOOPBACK, port, app, server_class=_ThreadingWSGIServer, handler_class=_logging_handler(label)
    ) as server:
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
        print(f"{label} listening on http://{LOOPBACK}:{server.server_port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever(poll_interval=0.2)
