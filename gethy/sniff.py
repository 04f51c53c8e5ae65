"""Telling HTTP/2 from HTTP/1.x by the first bytes, and answering HTTP/1.x readably.

Built in notebook 07 (asyncio server).

On a cleartext port a client that knows the server speaks HTTP/2 ("prior
knowledge", RFC 9113 §3.3) starts with the connection preface
``PRI * HTTP/2.0...`` (§3.4). A client that does not know sends an HTTP/1.x
request line instead. The server may hold its own preface until the client's
has arrived (§3.4), so it can look first: `Sniffer` collects the first bytes
until it can tell, and `refuse_http1` builds a plain HTTP/1.1 ``505`` answer
that says how to ask again (``curl --http2-prior-knowledge ...``), instead of a
binary GOAWAY that a browser or ``curl --http1.1`` would show as garbage.

Everything here is pure: bytes in, a decision or bytes out, no socket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from gethy.frames import CONNECTION_PREFACE

__all__ = [
    "SNIFF_LIMIT",
    "Refusal",
    "Sniffed",
    "Sniffer",
    "looks_like_http1",
    "refuse_http1",
]

#: How many bytes we wait for, at most, to tell an HTTP/1.x request line from the preface.
SNIFF_LIMIT = 8192

_HTTP1_REQUEST_LINE = re.compile(rb"^[A-Z]{3,10} [^ \r\n]+ HTTP/1\.[01]\r?\n")

_HTTP1_RESPONSE = (
    "HTTP/1.1 505 HTTP Version Not Supported\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: {length}\r\n"
    "Connection: close\r\n"
    "\r\n"
)


def looks_like_http1(data: bytes) -> bool:
    """True if `data` starts like an HTTP/1.x request line (``GET / HTTP/1.1``).

    A client that does not know the server speaks HTTP/2 sends this where the
    connection preface should be; a server can answer it in HTTP/1.1.
    """
    return bool(_HTTP1_REQUEST_LINE.match(data))


class Sniffed(Enum):
    """What the first bytes of a connection turned out to be."""

    #: Not enough bytes yet to tell: wait for more.
    MORE = "more bytes needed"
    #: The HTTP/2 preface, or bytes that are no HTTP/1.x request line either:
    #: from here on `HTTP2Protocol` judges them (garbage gets a GOAWAY, §3.4).
    HTTP2 = "HTTP/2"
    #: An HTTP/1.x request line: answer it with `refuse_http1`.
    HTTP1 = "HTTP/1.x"


class Sniffer:
    """Collect a connection's first bytes until they tell HTTP/2 from HTTP/1.x.

    `feed` returns what was decided and, once decided, every byte seen so
    far (nothing is lost to the look). It waits while the bytes are a prefix
    of the preface, or while no line has ended yet (up to `SNIFF_LIMIT` bytes).
    """

    def __init__(self, limit: int = SNIFF_LIMIT) -> None:
        self.limit = limit
        self._head = b""  # the bytes seen while undecided

    def feed(self, data: bytes) -> tuple[Sniffed, bytes]:
        """Add `data`; return the verdict and, unless it is `MORE`, all bytes seen."""
        head = self._head + data
        self._head = b""
        window = head[: len(CONNECTION_PREFACE)]
        if window == CONNECTION_PREFACE[: len(window)]:
            if len(head) < len(CONNECTION_PREFACE):
                self._head = head  # the preface is still arriving
                return Sniffed.MORE, b""
            return Sniffed.HTTP2, head
        if b"\n" not in head and len(head) < self.limit:
            self._head = head  # maybe an HTTP/1.x request line, still arriving
            return Sniffed.MORE, b""
        if looks_like_http1(head):
            return Sniffed.HTTP1, head
        return Sniffed.HTTP2, head


@dataclass(frozen=True)
class Refusal:
    """The HTTP/1.1 answer to an HTTP/1.x request, and how to describe it in the log."""

    response: bytes  # the whole HTTP/1.1 response, ready to write
    request_line: str  # what the client asked, e.g. "GET /index.html HTTP/1.1"
    reason: str  # the connection's close reason


def refuse_http1(head: bytes, base_url: str, *, tls: bool) -> Refusal:
    """Answer an HTTP/1.x request in HTTP/1.1: this port speaks HTTP/2 only.

    ``505 HTTP Version Not Supported`` with ``Connection: close``, and a body
    naming the way in: TLS with ALPN ``h2`` (RFC 9113 §3.2) on a TLS port,
    prior knowledge (§3.3) on a cleartext one. `base_url` is the server's own
    address (``http://127.0.0.1:8000/``), so the hint can be pasted as is.
    """
    request_line = head.split(b"\n", 1)[0].decode("latin-1").strip()
    method, target, version = (request_line.split(" ") + ["", "", ""])[:3]
    if not target.startswith("/") or not target.isprintable() or len(target) > 200:
        target = "/"  # never echo something odd (or huge) back
    if tls:
        hint = (
            "This server speaks HTTP/2 only, chosen by TLS ALPN (RFC 9113 §3.2).\n"
            f"Try: curl -k --http2 {base_url}{target.lstrip('/')}\n"
        )
    else:
        hint = (
            "This port speaks HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3),"
            f" not {version or 'HTTP/1.x'}.\n"
            f"Try: curl --http2-prior-knowledge {base_url}{target.lstrip('/')}\n"
        )
    body = hint.encode("utf-8")
    response = _HTTP1_RESPONSE.format(length=len(body)).encode("ascii") + body
    reason = f"an HTTP/1.x request ({method} {target}) answered with 505"
    return Refusal(response, request_line, reason)
