"""The lingering close: our last frames reach the client before the connection dies.

Built in notebook 08 (errors and attacks).

When a server closes a socket while the client's bytes are still arriving,
the kernel answers them with a TCP reset, and a reset can destroy data the
client has not read yet: our GOAWAY (RFC 9113 §6.8) or the end of a
response. So the server closes in two steps, as HTTP/1.1 already advised (RFC 9112
§9.6, "tear-down"). `half_close` shuts our writing
side only (``write_eof``; TLS sends close_notify after the buffered data)
and keeps reading; the connection then reads and discards whatever comes,
and `Linger.should_cut` says when to cut for good: once our bytes left and
`LINGER` seconds passed, or after `CLOSE_TIMEOUT` seconds in any case (a
client that never reads must not keep the socket).
"""

from __future__ import annotations

import asyncio

__all__ = ["CHECK_INTERVAL", "CLOSE_TIMEOUT", "LINGER", "Linger", "half_close"]

#: After we end a connection, how long we keep reading (and discarding) before cutting it.
LINGER = 1.0
#: Upper bound on waiting for the socket buffer to drain when closing.
CLOSE_TIMEOUT = 10.0
#: How often (seconds) a lingering connection is looked at.
CHECK_INTERVAL = 0.5


class Linger:
    """When to cut a half-closed connection: pure, the clock given as a number."""

    def __init__(
        self, now: float, *, linger: float = LINGER, timeout: float = CLOSE_TIMEOUT
    ) -> None:
        self.linger_until = now + linger
        self.deadline = now + timeout
        #: Seconds until the first look, then `CHECK_INTERVAL` between looks.
        self.first_check = min(linger, CHECK_INTERVAL)
        self.interval = CHECK_INTERVAL

    def should_cut(self, now: float, unsent: int) -> bool:
        """True when the connection may be aborted; `unsent` is the transport's write buffer."""
        return now >= self.deadline or (unsent == 0 and now >= self.linger_until)


def half_close(transport: asyncio.Transport) -> bool:
    """Stop writing but keep reading; False if the client is already gone.

    Reading resumes (it may have been paused for backpressure) so that the
    client's own close is seen and ends the connection early.
    """
    transport.resume_reading()
    try:
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()  # TLS: close_notify after the buffered data
    except OSError:  # the client is already gone (ENOTCONN, reset)
        return False
    return True
