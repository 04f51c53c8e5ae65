"""Where h2 answers a misbehaving client differently from RFC 9113, and the fix.

Not built in a notebook: notebook 08 (errors and attacks) shows why it is here.

h2 does almost everything right, but a conformance suite (h2spec, and
tests/test_conformance.py here) finds answers to bad input that RFC 9113
words otherwise. `StrictH2Connection` is h2's `H2Connection` with those
answers changed; `HTTP2Protocol` uses it. Each fix leans on a piece of h2 that
is not public API, so each one is small and has a test that fails without it.

1. A frame whose 9-byte header already shows a wrong length gets an answer at
   once (RFC 9113 §4.2, §6.5, §6.7, §6.9): h2 waits for the whole payload
   first, so a header announcing 16 MiB, or a 9-byte SETTINGS, would leave the
   client waiting for an answer that never comes.
2. A SETTINGS ACK with a payload is a FRAME_SIZE_ERROR (§6.5); h2 says
   PROTOCOL_ERROR.
3. An HPACK decoding failure is a COMPRESSION_ERROR (§4.3); h2 says
   PROTOCOL_ERROR.
4. DATA on a stream both sides have ended is a connection error of type
   STREAM_CLOSED (§5.1, "closed"); h2 only resets the stream.
5. Frames arriving on a stream we reset are ignored (§5.1, "closed": the
   peer may have sent them before it saw our RST_STREAM); h2 answered each
   late DATA frame with one more RST_STREAM.
6. A GOAWAY never raises the last stream id an earlier one announced (§6.8).
7. A client's GOAWAY with NO_ERROR lets the streams it opened finish (§6.8):
   h2 closes the whole connection on any GOAWAY and drops the responses it
   has queued, although the client still reads them.
8. A stream over SETTINGS_MAX_CONCURRENT_STREAMS is refused alone, with
   RST_STREAM REFUSED_STREAM, so the client may retry it (§5.1.2, §8.7); h2
   ends the whole connection. Its header block is still decoded, to keep
   the HPACK context in step with the client's (RFC 7541 §2.2).
9. Our HPACK encoder's table stays at most `ENCODER_TABLE_CAP` bytes, whatever
   SETTINGS_HEADER_TABLE_SIZE the client allows: the encoder may choose any
   size up to it (RFC 7541 §4.2), and a huge table makes every search slow.
10. A header block still arriving in CONTINUATION frames (§6.10) is kept up to
   `MAX_HEADER_BLOCK` bytes, then the connection ends with GOAWAY
   ENHANCE_YOUR_CALM (the CONTINUATION flood, CVE-2024-27316). h2 counts
   frames (64), so with 16 KiB frames one block could hold 1 MiB.

And one guard that needs h2's innards: with a `gethy.floods.FloodGuard`
attached, every frame is counted before h2 handles it, and so is every
stream h2 resets because of a client's frame; a spent budget ends the
connection with GOAWAY ENHANCE_YOUR_CALM before the rest of the bytes run.
"""

from __future__ import annotations

from h2.config import H2Configuration
from h2.connection import ConnectionInputs, H2Connection, _decode_headers
from h2.errors import ErrorCodes
from h2.events import ConnectionTerminated, StreamReset
from h2.exceptions import (
    FrameDataMissingError,
    FrameTooLargeError,
    ProtocolError,
    StreamClosedError,
)
from h2.frame_buffer import FrameBuffer
from h2.stream import StreamClosedBy
from h2.utilities import SizeLimitDict
from hpack import Decoder
from hpack.exceptions import HPACKError, OversizedHeaderListError
from hyperframe.frame import ContinuationFrame, GoAwayFrame, HeadersFrame, RstStreamFrame

from gethy.floods import COUNTED_FRAMES, FloodError, FloodGuard
from gethy.frames import FIXED_LENGTHS, FRAME_TYPE_CODES

SETTINGS = FRAME_TYPE_CODES["SETTINGS"]
#: The largest HPACK table our encoder keeps (fix 9): RFC 7541's default size.
ENCODER_TABLE_CAP = 4096
#: The most bytes of one header block kept while it arrives (fix 10): twice the
#: SETTINGS_MAX_HEADER_LIST_SIZE we announce (64 KiB of decoded fields). A block of
#: literals is about as long as its fields, so an honest client stays well below it.
MAX_HEADER_BLOCK = 2 * 65_536


class HeaderCheckedFrameBuffer(FrameBuffer):
    """h2's frame buffer, judging a frame's length from its header alone (fixes 1, 2)."""

    def __next__(self):  # type: ignore[no-untyped-def]
        data = self._data
        if len(data) >= 9:
            length, kind = int.from_bytes(data[:3], "big"), data[3]
            if length > self.max_frame_size:
                raise FrameTooLargeError(
                    f"frame of {length} bytes, SETTINGS_MAX_FRAME_SIZE is {self.max_frame_size}"
                )
            wrong = (kind in FIXED_LENGTHS and length != FIXED_LENGTHS[kind]) or (
                kind == SETTINGS and (length % 6 or (data[4] & 0x1 and length))
            )
            if wrong:
                raise FrameDataMissingError(f"frame type {kind:#x} with length {length}")
        return super().__next__()

    def _update_header_buffer(self, f):  # type: ignore[no-untyped-def]
        if self._headers_buffer and isinstance(f, ContinuationFrame):  # fix 10
            held = len(f.data) + sum(len(part.data) for part in self._headers_buffer)
            if held > MAX_HEADER_BLOCK:
                raise FloodError(
                    f"a header block over {MAX_HEADER_BLOCK:,} bytes (CONTINUATION flood)"
                )
        return super()._update_header_buffer(f)


class CompressionErrorDecoder(Decoder):
    """An HPACK decoder whose failures are COMPRESSION_ERRORs (fix 3)."""

    def decode(self, data: bytes, raw: bool = False):  # type: ignore[no-untyped-def]
        try:
            return super().decode(data, raw=raw)
        except OversizedHeaderListError:
            raise  # h2 answers this one with ENHANCE_YOUR_CALM, as it should
        except HPACKError as exc:
            error = ProtocolError(f"HPACK decoding error: {exc}")
            error.error_code = ErrorCodes.COMPRESSION_ERROR  # type: ignore[attr-defined]
            raise error from exc


class StrictH2Connection(H2Connection):
    """h2's `H2Connection` with the answers above brought in line with RFC 9113."""

    def __init__(self, config: H2Configuration) -> None:
        super().__init__(config)
        self.incoming_buffer = HeaderCheckedFrameBuffer(server=not config.client_side)
        self.decoder = CompressionErrorDecoder()
        self.decoder.max_header_list_size = self.DEFAULT_MAX_HEADER_LIST_SIZE
        self._reset_by_us = SizeLimitDict(size_limit=1000)

    #: Counts frames and resets when set (see `gethy.floods`).
    flood_guard: FloodGuard | None = None

    #: Set by a graceful GOAWAY: later GOAWAYs announce no higher stream (fix 6).
    last_stream_id_cap: int | None = None

    @property
    def goaway_last_stream_id(self) -> int:
        """The last stream id a GOAWAY sent now would carry."""
        if self.last_stream_id_cap is None:
            return self.highest_inbound_stream_id
        return min(self.highest_inbound_stream_id, self.last_stream_id_cap)

    def _handle_data_on_closed_stream(self, events, exc, frame):  # type: ignore[no-untyped-def]
        # Fix 4: closed by END_STREAM on both sides is a connection error.
        if self._stream_is_closed_by_end(exc.stream_id):
            raise StreamClosedError(exc.stream_id)
        frames, events = super()._handle_data_on_closed_stream(events, exc, frame)
        if exc.stream_id in self._reset_by_us:
            # Fix 5: keep the connection window's refund, drop the extra RST_STREAM.
            frames = [f for f in frames if not isinstance(f, RstStreamFrame)]
        return frames, events

    def reset_stream(self, stream_id: int, error_code: ErrorCodes | int = 0) -> None:
        super().reset_stream(stream_id, error_code)
        self._reset_by_us[stream_id] = True  # remembered for fix 5 (the latest 1,000)

    def _receive_goaway_frame(self, frame: GoAwayFrame):  # type: ignore[no-untyped-def]
        if frame.error_code != ErrorCodes.NO_ERROR:
            return super()._receive_goaway_frame(frame)
        # Fix 7: the queued output stays; with streams open, so does the connection.
        events = []
        if not self.open_inbound_streams:
            events = self.state_machine.process_input(ConnectionInputs.RECV_GOAWAY)
        event = ConnectionTerminated()
        event.error_code = ErrorCodes.NO_ERROR
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [*events, event]

    def _receive_headers_frame(self, frame: HeadersFrame):  # type: ignore[no-untyped-def]
        new = frame.stream_id not in self.streams and frame.stream_id % 2 == 1
        if new and frame.stream_id > self.highest_inbound_stream_id and self._streams_full():
            return self._refuse_stream(frame)
        return super()._receive_headers_frame(frame)

    def _streams_full(self) -> bool:
        limit = self.local_settings.max_concurrent_streams
        return len(self.streams) >= limit and self.open_inbound_streams >= limit

    def _refuse_stream(self, frame: HeadersFrame):  # type: ignore[no-untyped-def]
        """Fix 8: one stream too many is refused alone; HPACK still reads its headers."""
        _decode_headers(self.decoder, frame.data)  # may raise: a bad block is still an error
        self.highest_inbound_stream_id = frame.stream_id  # the id is used up
        self._closed_streams[frame.stream_id] = StreamClosedBy.SEND_RST_STREAM
        self._reset_by_us[frame.stream_id] = True
        if self.flood_guard is not None:
            self.flood_guard.reset()  # a reset the client made us send
        refusal = RstStreamFrame(frame.stream_id)
        refusal.error_code = ErrorCodes.REFUSED_STREAM
        return [refusal], []

    def _acknowledge_settings(self):  # type: ignore[no-untyped-def]
        frames = super()._acknowledge_settings()
        if self.encoder.header_table_size > ENCODER_TABLE_CAP:
            self.encoder.header_table_size = ENCODER_TABLE_CAP  # fix 9 (RFC 7541 §4.2)
        return frames

    def _receive_frame(self, frame):  # type: ignore[no-untyped-def]
        guard = self.flood_guard
        if guard is None:
            return super()._receive_frame(frame)
        if type(frame) in COUNTED_FRAMES:
            guard.frame_received(frame)  # a FloodError here ends the connection
        events = super()._receive_frame(frame)
        for event in events:
            if type(event) is StreamReset and not event.remote_reset:
                guard.reset()  # h2 reset a stream because of this frame (MadeYouReset)
        return events

    def _terminate_connection(self, error_code: ErrorCodes) -> None:
        # Fix 6: h2 would announce its highest stream id, even after a graceful GOAWAY.
        self.close_connection(error_code, last_stream_id=self.goaway_last_stream_id)
