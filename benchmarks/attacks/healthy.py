"""The healthy client: a small GET every ~20 ms on its own connection, timed.

It runs as its own process (``python -m benchmarks.attacks.healthy``), not
as a thread beside the attacker: two Python threads share one interpreter
lock, and the attacker's work would show up as the healthy client's latency.
The process prints ``ready`` after its first answer; when its stdin closes it
stops and prints one JSON document: for every GET, when it was sent
(``time.monotonic``, the same clock in every process on Linux), how long the
answer took, and the error if there was none. A GET waits at most
`REQUEST_TIMEOUT` seconds; after an error the client connects again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from benchmarks.servers import HOST, REPO_ROOT

__all__ = ["HealthyClient", "Sample", "get_once", "worst_during"]

INTERVAL = 0.02
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class Sample:
    """One GET: sent at `sent` (monotonic seconds), answered after `latency` s, or `error`."""

    sent: float
    latency: float
    error: str | None = None


class _Connection:
    """h2's client on a blocking socket: one GET at a time."""

    def __init__(self, port: int, tls: bool) -> None:
        sock = socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=HOST)
        self.sock = sock
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())

    def get(self, path: str = "/") -> int:
        """One GET; its status. Raises on a reset, a GOAWAY, a close or a timeout."""
        stream_id = self.conn.get_next_available_stream_id()
        headers = [(":method", "GET"), (":scheme", "http"), (":path", path)]
        self.conn.send_headers(stream_id, [*headers, (":authority", HOST)], end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        deadline = time.monotonic() + REQUEST_TIMEOUT
        status = 0
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            for event in self.conn.receive_data(data):
                status = self._handle(event, stream_id, status)
                if isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    self.sock.sendall(self.conn.data_to_send())
                    return status
            self.sock.sendall(self.conn.data_to_send())

    def _handle(self, event: h2.events.Event, stream_id: int, status: int) -> int:
        if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
            return int(dict(event.headers)[b":status"])
        if isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            raise ConnectionError(f"stream reset ({event.error_code!r})")
        elif isinstance(event, h2.events.ConnectionTerminated):
            raise ConnectionError(f"GOAWAY ({event.error_code!r})")
        return status

    def close(self) -> None:
        """Close with a TCP reset (SO_LINGER 0): the server forgets us at once instead of
        lingering (`gethy.guards.linger`), so the row's server stops without waiting."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.sock.close()


def get_once(port: int, *, tls: bool = False) -> str:
    """One GET on a new connection: its status ("200"), or what went wrong."""
    connection = None
    try:
        connection = _Connection(port, tls)
        return str(connection.get())
    except (OSError, ConnectionError, h2.exceptions.ProtocolError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        if connection is not None:
            connection.close()


def run(port: int, tls: bool, stop: threading.Event) -> list[Sample]:
    """GET every `INTERVAL` seconds until `stop`; say ``ready`` after the first answer."""
    samples: list[Sample] = []
    connection: _Connection | None = None
    ready = False
    next_at = time.monotonic()
    while not stop.is_set():
        sent = time.monotonic()
        try:
            if connection is None:
                connection = _Connection(port, tls)
            status = connection.get()
            error = None if status == 200 else f"status {status}"
        except (OSError, ConnectionError, h2.exceptions.ProtocolError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if connection is not None:
                connection.close()
            connection = None
        samples.append(Sample(sent, time.monotonic() - sent, error))
        if not ready and error is None:
            ready = True
            print("ready", flush=True)
        next_at = max(next_at + INTERVAL, time.monotonic())
        stop.wait(next_at - time.monotonic())
    if connection is not None:
        connection.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", action="store_true")
    args = parser.parse_args()
    stop = threading.Event()

    def wait_for_stdin_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_stdin_eof, daemon=True).start()
    samples = run(args.port, args.tls, stop)
    json.dump([[s.sent, s.latency, s.error] for s in samples], sys.stdout)
    return 0


class HealthyClient:
    """The parent's handle on a healthy-client process (a context manager)."""

    def __init__(self, port: int, *, tls: bool = False) -> None:
        argv = [sys.executable, "-m", "benchmarks.attacks.healthy", "--port", str(port)]
        self.process = subprocess.Popen(
            [*argv, *(["--tls"] if tls else [])],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.samples: list[Sample] = []

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once the first GET was answered."""
        assert self.process.stdout is not None
        if not select.select([self.process.stdout], [], [], timeout)[0]:
            return False
        return self.process.stdout.readline().strip() == b"ready"

    def stop(self) -> list[Sample]:
        """Stop it and collect its samples."""
        if self.process.poll() is None or not self.samples:
            try:
                out, err = self.process.communicate(timeout=REQUEST_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, err = self.process.communicate()
            with contextlib.suppress(ValueError):
                self.samples = [Sample(*row) for row in json.loads(out or b"[]")]
        return self.samples

    def __enter__(self) -> HealthyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.stop()


def worst_during(samples: list[Sample], start: float, end: float) -> tuple[float, int, int]:
    """The worst latency of the GETs in flight during [start, end], their number, and failures."""
    during = [s for s in samples if s.sent <= end and s.sent + s.latency >= start]
    worst = max((s.latency for s in during), default=0.0)
    return worst, len(during), sum(1 for s in during if s.error is not None)


if __name__ == "__main__":
    sys.exit(main())
