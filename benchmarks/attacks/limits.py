"""The limits a server advertises, and memory a client leaves behind.

* **101 concurrent streams** when SETTINGS_MAX_CONCURRENT_STREAMS is 100: once
  the client has acknowledged the server's SETTINGS, a HEADERS that opens one
  stream too many is a stream error, PROTOCOL_ERROR or REFUSED_STREAM (RFC
  9113 §5.1.2); REFUSED_STREAM tells the client it may retry (§8.7). The
  connection and the 100 streams go on.
* **Abandoned uploads**: many connections each start a POST declaring 16 MiB
  (gethy's largest request body), send nearly all of it, and close without
  finishing. Whatever the server buffered must be freed.
"""

from __future__ import annotations

import socket
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.describe import ending
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import DATA, END_STREAM, encode_frame, headers_frame, request_block
from benchmarks.servers import HOST
from gethy.frames import error_code_name

__all__ = ["abandoned_uploads", "too_many_streams"]

LIMIT = 100  # gethy's SETTINGS_MAX_CONCURRENT_STREAMS
UPLOAD_FULL = 16 * 1024 * 1024 - 1  # declared and nearly sent in the full mode...
UPLOAD_QUICK = 4 * 1024 * 1024  # ...and sent in the quick mode (16 MiB still declared)
DECLARED = 16 * 1024 * 1024


def too_many_streams(ctx: Context) -> Outcome:
    """100 requests still arriving, then the 101st; then finish the first and read its answer."""
    attacker = Attacker(ctx, statuses=True)
    try:
        attacker.handshake(wait_ack=True)
        block = request_block("/echo", "POST")
        ids = list(range(1, 2 * (LIMIT + 1), 2))
        attacker.send(b"".join(headers_frame(i, block, end_stream=False) for i in ids))
        extra = ids[-1]
        scanner = attacker.scanner
        attacker.read_until(
            lambda: scanner.goaway or extra in scanner.resets or extra in scanner.statuses, 1.0
        )
        attacker.send(encode_frame(DATA, END_STREAM, 1, b""))
        attacker.read_until(lambda: 1 in scanner.ended or scanner.goaway, 1.0)
        refused = scanner.resets.get(extra)
        details = {
            "refused": None if refused is None else error_code_name(refused),
            "connection_survived": scanner.goaway is None and 1 in scanner.ended,
        }
        text = _streams_text(attacker, extra)
        return Outcome(text, LIMIT + 1, stopped=scanner.goaway is not None, details=details)
    finally:
        attacker.close()


def _streams_text(attacker: Attacker, extra: int) -> str:
    scanner = attacker.scanner
    if extra in scanner.resets:
        first = f"stream {extra}: RST_STREAM {error_code_name(scanner.resets[extra])}"
    elif extra in scanner.statuses:
        first = f"stream {extra}: answered {scanner.statuses[extra]} (not refused)"
    else:
        first = f"stream {extra}: nothing"
    if scanner.goaway is not None:
        return f"{first}; GOAWAY {scanner.goaway.name}"
    if 1 in scanner.ended:
        return f"{first}; stream 1 still answered {scanner.statuses.get(1)}"
    return f"{first}; {ending(attacker, LIMIT + 1, 'streams') or 'stream 1 not answered'}"


class _Upload:
    """One connection's upload with h2's client (it keeps to the server's windows)."""

    def __init__(self, ctx: Context, size: int, deadline: float) -> None:
        self.size = size
        self.deadline = deadline
        self.sent = 0
        self.answer = ""
        self.sock = socket.create_connection((HOST, ctx.port), timeout=5.0)
        ctx.client_ports.append(self.sock.getsockname()[1])
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))

    def run(self) -> None:
        try:
            self._upload()
        except (OSError, h2.exceptions.ProtocolError) as exc:
            self.answer = self.answer or type(exc).__name__

    def _upload(self) -> None:
        conn = self.conn
        conn.initiate_connection()
        headers = [(":method", "POST"), (":scheme", "http"), (":path", "/echo")]
        headers += [(":authority", HOST), ("content-length", str(DECLARED))]
        conn.send_headers(1, headers)
        self.sock.sendall(conn.data_to_send())
        while self.sent < self.size and time.monotonic() < self.deadline and not self.answer:
            window = min(conn.local_flow_control_window(1), conn.max_outbound_frame_size)
            if window <= 0:
                self._receive()
                continue
            chunk = min(window, self.size - self.sent)
            conn.send_data(1, b"u" * chunk)
            self.sent += chunk
            self.sock.sendall(conn.data_to_send())

    def _receive(self) -> None:
        self.sock.settimeout(max(self.deadline - time.monotonic(), 0.01))
        data = self.sock.recv(65536)
        if not data:
            self.answer = "closed"
            return
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                self.answer = f"status {dict(event.headers).get(b':status', b'?').decode()}"
            elif isinstance(event, h2.events.StreamReset):
                self.answer = f"RST_STREAM {error_code_name(event.error_code)}"
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.answer = f"GOAWAY {error_code_name(event.error_code)}"
        self.sock.sendall(self.conn.data_to_send())

    def close(self) -> None:
        self.sock.close()


def abandoned_uploads(ctx: Context) -> Outcome:
    """`ctx.size` connections upload at once, stop one byte short (or at 4 MiB), then close."""
    size = UPLOAD_QUICK if ctx.quick else UPLOAD_FULL
    deadline = time.monotonic() + ctx.seconds
    uploads = [_Upload(ctx, size, deadline) for _ in range(ctx.size)]
    threads = [threading.Thread(target=u.run) for u in uploads]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0) + 5)
    finally:
        for upload in uploads:
            upload.close()
    complete = sum(1 for u in uploads if u.sent >= size)
    answered = sorted({u.answer for u in uploads if u.answer})
    text = f"{complete} of {ctx.size} uploads sent {size:,} of {DECLARED:,} bytes"
    text += f", then closed; {', '.join(answered) if answered else 'nothing'}"
    sent = sum(u.sent for u in uploads)
    return Outcome(text, ctx.size, connections=ctx.size, details={"bytes_sent": sent})
