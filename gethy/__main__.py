"""The command line: ``python -m gethy serve`` (or just ``gethy serve``).

Not built in a notebook: notebook 00 starts the server it runs.

Starts `gethy.server` with the default application (a JSON echo of each
request, plus ``/bytes/N``), prints the URL and a curl command to try, and
shuts down gracefully on Ctrl-C (GOAWAY, in-flight responses finish,
RFC 9113 §6.8). A second Ctrl-C stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import shutil
import signal
import sys
from collections.abc import Sequence

from gethy.server import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_IDLE_TIMEOUT,
    MAX_SERVER_REQUEST_BUFFER,
    Server,
    serve,
)
from gethy.tls import self_signed_certificate, server_context

DESCRIPTION = """\
gethy: an HTTP/2 server built on a sans-IO protocol class, for learning.

  serve   run the HTTP/2 server (JSON echo of each request; /bytes/N returns N bytes)
"""

SERVE_DESCRIPTION = """\
Serve HTTP/2 on HOST:PORT with gethy's default application: every request is
answered with a JSON document holding its headers and body (like the asyncio +
h2 server of the seed article), and GET /bytes/N answers N bytes, streamed,
for large-body and flow-control experiments (N up to 1 GiB).

Without --tls the server speaks cleartext HTTP/2 with prior knowledge (h2c,
RFC 9113 §3.3): clients must know in advance, e.g.
  curl --http2-prior-knowledge http://127.0.0.1:8000/
An HTTP/1.1 request on this port gets a 505 answer explaining that.

With --tls the server speaks HTTP/2 over TLS, negotiated with ALPN "h2"
(RFC 9113 §3.2), as browsers require. Without --certfile/--keyfile it makes a
self-signed certificate for localhost and 127.0.0.1 in a new temporary
directory, prints where, and deletes it on exit. Try:
  curl -k https://127.0.0.1:8000/

Ctrl-C (or SIGTERM) shuts down gracefully: GOAWAY to every client, requests in
flight finish (up to --grace seconds), then the server exits. A second Ctrl-C
stops at once. One log line per connection goes to stderr at INFO level.
"""


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {port}")
    return port


def _seconds(text: str) -> float:
    """A positive, finite number of seconds for argparse."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be positive and finite, not {text}")
    return seconds


_SIZE = re.compile(r"(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)")
_UNITS = {"k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def _size(text: str) -> int:
    """A number of bytes for argparse, with an optional unit: 1048576, 512KiB, 256MiB, 1GB."""
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size in bytes (say 256MiB): {text!r}")
    number, unit = match.groups()
    return int(number) * _UNITS.get(unit.removesuffix("b"), 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gethy",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve_parser = commands.add_parser(
        "serve",
        help="run the HTTP/2 server",
        description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve_parser.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on; 0 picks a free one (default: 8000)",
    )
    serve_parser.add_argument(
        "--tls", action="store_true", help="serve HTTP/2 over TLS, negotiated with ALPN h2"
    )
    serve_parser.add_argument(
        "--certfile", metavar="F", help="TLS certificate chain, PEM (implies --tls)"
    )
    serve_parser.add_argument(
        "--keyfile", metavar="F", help="private key of --certfile, PEM (if not inside it)"
    )
    serve_parser.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="S",
        help="close a connection after S seconds without progress (default: %(default)g)",
    )
    serve_parser.add_argument(
        "--grace",
        type=_seconds,
        default=DEFAULT_GRACE_PERIOD,
        metavar="S",
        help="on shutdown, let requests in flight finish for up to S s (default: %(default)g)",
    )
    serve_parser.add_argument(
        "--max-server-request-buffer",
        type=_size,
        default=MAX_SERVER_REQUEST_BUFFER,
        metavar="SIZE",
        help="request bodies buffered across all connections; beyond it uploads wait "
        "(default: 256MiB)",
    )
    serve_parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="logging level; info logs one line per connection (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m gethy`` and of the ``gethy`` console script."""
    args = build_parser().parse_args(argv)
    if args.keyfile and not args.certfile:
        build_parser().error("--keyfile needs --certfile")
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:  # a second Ctrl-C during the graceful shutdown
        print("stopped.", flush=True)
        return 130
    except OSError as exc:  # e.g. the port is taken
        print(f"gethy: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


async def _serve(args: argparse.Namespace) -> int:
    ssl_context = None
    generated = None
    if args.tls or args.certfile:
        if args.certfile:
            ssl_context = server_context(args.certfile, args.keyfile)
        else:
            generated = self_signed_certificate()
            ssl_context = server_context(generated.certfile, generated.keyfile)
    try:
        server = await serve(
            host=args.host,
            port=args.port,
            ssl_context=ssl_context,
            idle_timeout=args.idle_timeout if args.idle_timeout > 0 else None,
            grace_period=args.grace,
            max_server_request_buffer=args.max_server_request_buffer,
        )
        _print_banner(server, generated.certfile if generated else None)
        await _run_until_signal(server)
        print("gethy stopped.", flush=True)
        return 0
    finally:
        if generated is not None:
            shutil.rmtree(generated.directory, ignore_errors=True)


def _print_banner(server: Server, certfile: object) -> None:
    url = server.url
    lines = []
    if server.tls:
        lines.append(f"gethy: serving HTTP/2 over TLS (ALPN h2) on {url}")
        if certfile is not None:
            lines.append(f"self-signed certificate for localhost and 127.0.0.1: {certfile}")
            lines.append("  (deleted when the server stops)")
        lines.append(f"try:  curl -k {url}")
        if certfile is not None:
            localhost_url = url.replace("127.0.0.1", "localhost")
            lines.append(f"  or  curl --cacert {certfile} {localhost_url}")
    else:
        lines.append(f"gethy: serving cleartext HTTP/2 with prior knowledge (h2c) on {url}")
        lines.append(f"try:  curl --http2-prior-knowledge {url}")
    lines.append(f"      {url}bytes/1000000 returns a million bytes")
    lines.append("Ctrl-C stops the server gracefully.")
    print("\n".join(lines), flush=True)


async def _run_until_signal(server: Server) -> None:
    """Serve until SIGINT/SIGTERM, then close gracefully; a second signal stops at once."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = [signal.SIGINT, signal.SIGTERM]
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        print("shutting down gracefully (Ctrl-C again to stop at once)...", flush=True)
        for signum in signals:
            loop.add_signal_handler(signum, server.abort)
        await server.close()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


if __name__ == "__main__":
    sys.exit(main())
