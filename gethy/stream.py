"""A request as the application sees it: one HTTP/2 stream, complete.

Built in notebook 03 (receive).

In HTTP/2 every request and its response travel on their own *stream*
(RFC 9113 §5), a numbered sequence of frames inside the one connection.
`HTTP2Protocol` gathers a stream's HEADERS, DATA and trailing HEADERS
frames and hands the application a `Stream` only once the client has ended
it (END_STREAM, RFC 9113 §8.1), so the application never sees half a request.
"""

from __future__ import annotations

from dataclasses import dataclass

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Stream:
    """A complete request: headers, body and trailers of one client stream."""

    stream_id: int
    headers: Headers
    body: bytes = b""
    trailers: Headers | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (lower case, as HTTP/2 sends it)."""
        for key, value in self.headers:
            if key == name:
                return value
        return default

    @property
    def method(self) -> str:
        """The `:method` pseudo-header (RFC 9113 §8.3.1)."""
        return self.header(":method", "") or ""

    @property
    def path(self) -> str:
        """The `:path` pseudo-header (RFC 9113 §8.3.1)."""
        return self.header(":path", "") or ""
