"""The phases of a server connection, and the moves between them.

Built in notebook 07 (asyncio server).

asyncio calls an `asyncio.Protocol`'s methods as things happen on the socket
(`connection_made`, `data_received`, `eof_received`, `pause_writing`,
`resume_writing`, `connection_lost`). What `gethy.connection.ServerConnection`
does with each depends on one value, its `Phase`::

    SNIFFING ──preface──▶ OPEN ──GOAWAY sent, client half-closed,──▶ DRAINING
        │                  │      or client GOAWAY(NO_ERROR)              │
        │                  │                                  last stream done
        ▼                  ▼                                              ▼
        └──────────────▶ CLOSING (our side shut: read and discard) ◀──────┘
                           │
    any phase ─────────────┴──── connection_lost ────▶ CLOSED

`TRANSITIONS` lists every allowed move and what makes it; the connection
changes phase in one method only, which refuses any other move.

Backpressure is not a phase: asyncio may pause our writes in OPEN or DRAINING
alike (and it says nothing about the connection's life), so it is a flag of
its own, `ServerConnection.writing_paused`.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["TRANSITIONS", "Phase"]


class Phase(Enum):
    """Where a connection is in its life."""

    #: Connected; waiting to tell the HTTP/2 preface from an HTTP/1.x request
    #: line (`gethy.sniff`). Nothing is sent yet (RFC 9113 §3.4 lets us wait).
    SNIFFING = "sniffing"
    #: Speaking HTTP/2: requests come in, responses go out.
    OPEN = "open"
    #: Finishing the open streams, then closing: we sent a graceful GOAWAY
    #: (RFC 9113 §6.8), or the client half-closed, or it sent GOAWAY NO_ERROR.
    DRAINING = "draining"
    #: Our side is shut (a lingering close, `gethy.guards.linger`) or cut:
    #: whatever still arrives is read and discarded.
    CLOSING = "closing"
    #: asyncio called `connection_lost`: the socket is gone.
    CLOSED = "closed"

    @property
    def speaks_h2(self) -> bool:
        """True in the phases where HTTP/2 frames are read and written."""
        return self is Phase.OPEN or self is Phase.DRAINING

    @property
    def shut(self) -> bool:
        """True once our side is closed: nothing more is read or written."""
        return self is Phase.CLOSING or self is Phase.CLOSED


#: Each phase and the phases it may move to, with what moves it there.
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    # SNIFFING → OPEN: the preface arrived, or TLS ALPN chose "h2" (RFC 9113 §3.2).
    # SNIFFING → CLOSING: an HTTP/1.x request answered 505, no preface in time, shutdown.
    Phase.SNIFFING: frozenset({Phase.OPEN, Phase.CLOSING, Phase.CLOSED}),
    # OPEN → DRAINING: graceful GOAWAY sent, the client half-closed or sent GOAWAY NO_ERROR.
    # OPEN → CLOSING: a connection error either way, idle, rapid reset, or cut (abort).
    Phase.OPEN: frozenset({Phase.DRAINING, Phase.CLOSING, Phase.CLOSED}),
    # DRAINING → CLOSING: the last open stream is done, or a guard ends the connection.
    Phase.DRAINING: frozenset({Phase.CLOSING, Phase.CLOSED}),
    # CLOSING → CLOSED: the client closed too, the linger time is over, or we cut.
    Phase.CLOSING: frozenset({Phase.CLOSED}),
    # Any phase → CLOSED: asyncio reports the connection lost (the client vanished).
    Phase.CLOSED: frozenset(),
}
