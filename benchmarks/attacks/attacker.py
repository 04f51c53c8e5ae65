"""One attacking connection: a raw socket to 127.0.0.1, bytes out, frames counted in.

Every wait has a deadline and every send loop a byte count, so an attack
stops by itself whatever the server does. `Attacker.pour` writes a prepared
flood as fast as the socket takes it while reading the answers (so it sees a
GOAWAY as it comes), or without reading at all (``read=False``: the
attacker's receive buffer fills up, then the server's send buffer, RFC 9113
§6.9 cannot help there); it stops when the bytes run out, the server answers
GOAWAY or closes, the server stops taking bytes for ``stall`` seconds, or the
deadline passes.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable

from benchmarks.attacks.model import Context
from benchmarks.attacks.wire import (
    ACK,
    CONNECTION_PREFACE,
    SETTINGS,
    FrameScanner,
    encode_frame,
)
from benchmarks.servers import HOST

__all__ = ["Attacker", "tcp_state"]

CHUNK = 64 * 1024
HEAD = 4096
QUIET = 0.1  # seconds: the server is done when its CPU time grows by at most...
TICK = 1.0 / os.sysconf("SC_CLK_TCK")  # ...one clock tick in that time
RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # struct linger {l_onoff = 1, l_linger = 0}
TCP_CLOSE = 7  # tcp_info.tcpi_state (linux/tcp_states.h): the connection was reset or is gone
TCP_CLOSE_WAIT = 8  # the server sent FIN


def tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of `sock` (Linux ``TCP_INFO``), even with unread data queued."""
    return socket_info(sock)[0]


def socket_info(sock: socket.socket) -> bytes:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)


class Attacker:
    """A client connection to ``ctx.port`` that misbehaves on purpose.

    `scanner` holds what came back. Its local port goes into
    ``ctx.client_ports``, so the runner can find its line in the server's log.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        tls: bool = False,
        alpn: list[str] | None = None,
        rcvbuf: int | None = None,
        statuses: bool = False,
        table_size: int = 4096,
        timeout: float = 5.0,
    ) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect, so the window scale matches
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        sock.connect((HOST, ctx.port))
        ctx.client_ports.append(sock.getsockname()[1])
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(alpn if alpn is not None else ["h2"])
            sock = context.wrap_socket(sock, server_hostname=HOST)
        self.sock = sock
        self.tls = tls
        self.timeout = timeout  # every blocking call waits at most this long
        self.port = sock.getsockname()[1]  # ours: the server's log names us by it
        self.scanner = FrameScanner(statuses=statuses, table_size=table_size)
        self.head = b""  # the first bytes received, raw (an HTTP/1.1 answer is no frame)
        self.opened = time.monotonic()
        self.closed_at: float | None = None  # when we saw the server close (EOF or reset)
        self.sent = 0  # bytes written
        self.stalled_at: int | None = None  # bytes written when the server stopped taking more

    # --------------------------------------------------------------- reading

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def open_for(self) -> float:
        """Seconds from connect until the server closed (or until now)."""
        return (self.closed_at or time.monotonic()) - self.opened

    def read_once(self, timeout: float) -> bool:
        """Read what is there (waiting up to `timeout`); False once the server closed."""
        if self.closed:
            return False
        if not self._pending() and not select.select([self.sock], [], [], max(timeout, 0))[0]:
            return True
        try:
            self.sock.setblocking(False)
            data = self.sock.recv(CHUNK)
        except (BlockingIOError, ssl.SSLWantReadError):
            return True
        except (OSError, ssl.SSLError):
            data = b""
        finally:
            self._blocking()
        if not data:
            self.closed_at = time.monotonic()
            return False
        if len(self.head) < HEAD:
            self.head += data[: HEAD - len(self.head)]
        self.scanner.feed(data)
        return True

    def read_until(self, done: Callable[[], object] | None, timeout: float) -> bool:
        """Read until ``done()`` holds, the server closes, or `timeout` passes; return done()."""
        deadline = time.monotonic() + timeout
        check = done if done is not None else (lambda: False)
        while not check() and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.read_once(min(left, 0.1))
        return bool(check())

    def _pending(self) -> int:
        return self.sock.pending() if isinstance(self.sock, ssl.SSLSocket) else 0

    def _blocking(self) -> None:
        """Back to blocking calls, each bounded by `timeout` (never ``setblocking(True)``,
        which would wait forever)."""
        with contextlib.suppress(OSError):
            self.sock.settimeout(self.timeout)

    # --------------------------------------------------------------- writing

    def send(self, data: bytes) -> bool:
        """Write all of `data` (blocking, with the socket's timeout); False if that failed."""
        try:
            self.sock.sendall(data)
        except TimeoutError:  # the server stopped taking bytes, but did not close
            self.stalled_at = self.sent
            return False
        except (OSError, ssl.SSLError):
            if self.closed_at is None:
                self.closed_at = time.monotonic()
            return False
        self.sent += len(data)
        return True

    def handshake(self, settings: bytes = b"", *, wait_ack: bool = True) -> bool:
        """Preface, our SETTINGS (plus `settings`, e.g. window frames), the server's SETTINGS
        acknowledged; with `wait_ack`, until the server acknowledged ours (RFC 9113 §3.4, §6.5.3).
        """
        self.send(CONNECTION_PREFACE + encode_frame(SETTINGS, 0, 0, b"") + settings)
        if not self.read_until(lambda: self.scanner.count(SETTINGS) >= 1, 3.0):
            return False
        self.send(encode_frame(SETTINGS, ACK, 0, b""))
        if wait_ack:  # the server's SETTINGS and its ACK of ours: two SETTINGS frames
            return self.read_until(lambda: self.scanner.count(SETTINGS) >= 2, 3.0)
        return True

    def pour(self, data: bytes, *, seconds: float, read: bool = True, stall: float = 1.0) -> int:
        """Write `data` as fast as the socket takes it; return the bytes written.

        Stops early when the server sends GOAWAY or closes (if reading), when it
        takes nothing for `stall` seconds (`stalled_at` is then set), or after
        `seconds`.
        """
        deadline = time.monotonic() + seconds
        view = memoryview(data)
        at = 0
        last_progress = time.monotonic()
        self.sock.setblocking(False)
        try:
            while at < len(view) and not self.closed:
                now = time.monotonic()
                if now >= deadline or now - last_progress >= stall:
                    if now - last_progress >= stall:
                        self.stalled_at = self.sent
                    break
                written = self._pour_step(view[at : at + CHUNK], read, deadline)
                if written:
                    at += written
                    self.sent += written
                    last_progress = time.monotonic()
                if read and self.scanner.goaway is not None:
                    break
        finally:
            self._blocking()
        return at

    def _pour_step(self, chunk: memoryview, read: bool, deadline: float) -> int:
        wait = min(0.05, max(deadline - time.monotonic(), 0))
        readable, writable, _ = select.select([self.sock] if read else [], [self.sock], [], wait)
        if readable or (read and self._pending()):
            self._blocking()
            self.read_once(0)
            self.sock.setblocking(False)
        if not writable or self.closed:
            return 0
        try:
            return self.sock.send(chunk)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            return 0
        except (OSError, ssl.SSLError):
            self.closed_at = time.monotonic()
            return 0

    def time_left(self, ctx: Context) -> float:
        """What remains of the attack's time bound (at least a second, to hear the end)."""
        return max(ctx.seconds - self.open_for, 1.0)

    def wait_quiet(self, ctx: Context, seconds: float, *, read: bool = True) -> None:
        """Stay until the server has dealt with what it took: its CPU time stops growing.

        Leaving at once would reset the connection with frames still in the
        server's socket buffer, and they would never cost it anything. With
        `read`, answers are read meanwhile (the server could not write them
        otherwise). Returns early if the server closes or `seconds` pass.
        """
        deadline = time.monotonic() + seconds
        before = ctx.server_cpu()
        while time.monotonic() < deadline and not self.closed:
            if read:
                self.read_until(None, QUIET)
            else:
                time.sleep(QUIET)
            now = ctx.server_cpu()
            if now - before <= TICK:
                return
            before = now

    def wait_closed(self, seconds: float, *, read: bool = True) -> bool:
        """Wait up to `seconds` for the server to close; True if it did.

        With ``read=False`` nothing is read: the kernel's TCP state tells
        whether the server reset the connection or sent its FIN.
        """
        if read:
            self.read_until(None, seconds)
            return self.closed
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if tcp_state(self.sock) in (TCP_CLOSE, TCP_CLOSE_WAIT):
                self.closed_at = time.monotonic()
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Leave abruptly, with a TCP reset (SO_LINGER 0), as an attacker does.

        The server then forgets the connection at once: what it still holds
        afterwards is what it failed to free, not a graceful close in progress
        (`gethy.guards.linger` keeps a connection up to a second after a FIN).
        """
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        with contextlib.suppress(OSError):
            self.sock.close()
