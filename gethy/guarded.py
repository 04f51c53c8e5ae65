"""`GuardedProtocol`: the course's `CoreProtocol` answering bad input, with four budgets.

Built in notebook 08 (errors and attacks), where the learner writes the four
budgets as methods of their own class; this is that class finished, with the
notebook's names. (gethy's `HTTP2Protocol` defends itself differently and
further: `gethy.floods`, `gethy.strict_h2`; the notebook compares the two.)

* `AnsweringProtocol`: a client's protocol error becomes GOAWAY and a
  `ConnectionTerminatedEvent`, never an exception out of `receive`
  (RFC 9113 §5.4.1); the client's own GOAWAY is reported (§6.8).
* `_stream_reset`: a budget of resets, a token bucket (rapid reset,
  CVE-2023-44487; §6.4, §10.5).
* `_header_fragment`: a cap on the bytes of one header block (CONTINUATION
  flood, CVE-2024-27316; §6.10, §10.5.1).
* `_ack_queued`: a bound on PING and SETTINGS ACKs waiting for a client that
  does not read (PING flood; §6.7, §10.5).
* `_settings_received`: our HPACK encoder's table capped, whatever
  SETTINGS_HEADER_TABLE_SIZE the client allows (§6.5.2; RFC 7541 §4.2, §7.3).

A spent budget raises `gethy.floods.FloodError`, a `ProtocolError` whose
error code is ENHANCE_YOUR_CALM (§7): `receive` answers it like any other
connection error.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import h2.events
from h2.connection import ConnectionState, H2Connection
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError

from gethy.attacklab import meter_header_fragments
from gethy.core import CoreProtocol
from gethy.events import ConnectionTerminatedEvent, H2Event
from gethy.floods import FloodError

__all__ = ["AnsweringProtocol", "GuardedProtocol"]


class AnsweringProtocol(CoreProtocol):
    """`CoreProtocol` whose `receive` answers a client's protocol error instead of raising."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # the budgets' time, in seconds; tests pass their own
        self.terminated = False
        super().__init__()

    def receive(self, data: bytes) -> list[H2Event]:
        """Bytes in, events out; a connection error is answered with GOAWAY (§5.4.1)."""
        if self.terminated:
            return []  # the connection is over: what still arrives is ignored
        try:
            return super().receive(data)
        except ProtocolError as exc:
            return [self._connection_error(exc)]

    def _connection_error(self, exc: ProtocolError) -> ConnectionTerminatedEvent:
        error_code = getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR)
        conn = self.http2_connection
        if conn.state_machine.state is not ConnectionState.CLOSED:
            conn.close_connection(error_code=error_code)  # h2 has not sent GOAWAY yet
        self.terminated = True
        self.streams.clear()
        self.outbound.queues.clear()
        reason = str(exc) or type(exc).__name__
        return ConnectionTerminatedEvent(
            error_code, conn.highest_inbound_stream_id, reason, by_peer=False
        )

    def _other_event(self, event: h2.events.Event) -> list[H2Event]:
        if isinstance(event, h2.events.ConnectionTerminated):  # the client's GOAWAY (§6.8)
            self.terminated = True
            last = event.last_stream_id or 0
            return [ConnectionTerminatedEvent(event.error_code, last, "GOAWAY", by_peer=True)]
        return super()._other_event(event)


class GuardedProtocol(AnsweringProtocol):
    """`AnsweringProtocol` with notebook 08's four budgets against floods."""

    RESET_BURST = 100  # resets at once...
    RESET_RATE = 10.0  # ...then this many per second
    MAX_HEADER_BLOCK = 65_536  # bytes of one header block, HEADERS + CONTINUATIONs
    MAX_QUEUED_ACKS = 1_000  # PING and SETTINGS ACKs waiting for data_to_send()
    ENCODER_TABLE_CAP = 4_096  # bytes of our HPACK encoder's table (RFC 7541's default)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.reset_tokens = float(self.RESET_BURST)
        self.reset_time = clock()
        self.header_block = 0
        self.acks_queued = 0
        super().__init__(clock)

    def _new_connection(self) -> H2Connection:
        conn = super()._new_connection()
        meter_header_fragments(conn, self._header_fragment)
        return conn

    def _other_event(self, event: h2.events.Event) -> list[H2Event]:
        if isinstance(event, h2.events.PingReceived):
            self._ack_queued("PING")  # h2 has queued the PING ACK (§6.7)
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self._ack_queued("SETTINGS")  # ...and the SETTINGS ACK (§6.5.3)
            self._settings_received(event)
        return super()._other_event(event)

    def data_to_send(self) -> bytes:
        self.acks_queued = 0  # whatever was queued is taken now
        return super().data_to_send()

    def _stream_reset(self, event: h2.events.StreamReset) -> list[H2Event]:
        """Spend one token of the reset budget; out of tokens, ENHANCE_YOUR_CALM."""
        now = self.clock()
        refill = (now - self.reset_time) * self.RESET_RATE
        self.reset_tokens = min(self.RESET_BURST, self.reset_tokens + refill) - 1
        self.reset_time = now
        if self.reset_tokens < 0:
            raise FloodError(f"more than {self.RESET_BURST} streams reset at once (rapid reset)")
        return super()._stream_reset(event)

    def _header_fragment(self, stream_id: int, length: int, end_headers: bool) -> None:
        """Count a header block's bytes; past MAX_HEADER_BLOCK, ENHANCE_YOUR_CALM."""
        self.header_block += length
        if self.header_block > self.MAX_HEADER_BLOCK:
            limit = self.MAX_HEADER_BLOCK
            raise FloodError(f"a header block over {limit:,} bytes (CONTINUATION flood)")
        if end_headers:
            self.header_block = 0  # the block is whole: the next one starts from zero

    def _ack_queued(self, kind: str) -> None:
        """One more ACK waits for data_to_send(); past MAX_QUEUED_ACKS, ENHANCE_YOUR_CALM."""
        self.acks_queued += 1
        if self.acks_queued > self.MAX_QUEUED_ACKS:
            limit = self.MAX_QUEUED_ACKS
            raise FloodError(f"over {limit:,} ACKs wait for a client that does not read ({kind})")

    def _settings_received(self, event: h2.events.RemoteSettingsChanged) -> None:
        """Keep our encoder's table at most ENCODER_TABLE_CAP bytes (RFC 7541 §4.2)."""
        encoder = self.http2_connection.encoder
        if encoder.header_table_size > self.ENCODER_TABLE_CAP:
            encoder.header_table_size = self.ENCODER_TABLE_CAP
