"""An asyncio transport without a socket, and an h2 client to drive it: adapters tested in memory.

Built in notebook 07 (asyncio server), where the learner's `asyncio.Protocol`
adapter is first run against `FakeTransport` and `ScriptedClient`, then
against real sockets; the chapter's checks (`gethy.exercises.ch07`) use both.

asyncio hands a protocol a *transport* and calls the protocol's methods
(`connection_made`, `data_received`, `pause_writing`, ...). Nothing stops a
test from doing the same by hand: `FakeTransport` records every `write`,
`close`, `pause_reading` and `resume_reading`, so a check can say "this
`data_received` wrote exactly once" without a socket, a port or a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes

from gethy.frames import Frame, FrameReader, Preface
from gethy.pair import Response

__all__ = ["FakeTransport", "ScriptedClient"]


class FakeTransport(asyncio.Transport):
    """Records what a protocol does to its transport: writes, close, reading paused."""

    def __init__(self, peer: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading_paused = False
        self.calls: list[str] = []  # "write", "close", "pause_reading", "resume_reading"
        self._extra: dict[str, Any] = {"peername": peer, "sockname": ("127.0.0.1", 8000)}

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            raise RuntimeError("write() on a closed transport")
        self.writes.append(bytes(data))
        self.calls.append("write")

    def close(self) -> None:
        self.closed = True
        self.calls.append("close")

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading_paused = True
        self.calls.append("pause_reading")

    def resume_reading(self) -> None:
        self.reading_paused = False
        self.calls.append("resume_reading")

    def is_reading(self) -> bool:
        return not self.reading_paused

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.close()

    def take(self) -> bytes:
        """Everything written since the last `take`, as one bytes object."""
        data = b"".join(self.writes)
        self.writes.clear()
        return data


class ScriptedClient:
    """h2's client, for feeding a server adapter by hand and reading what it wrote back."""

    def __init__(self) -> None:
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()  # the client preface and its SETTINGS (§3.4)
        self.responses: dict[int, Response] = {}
        self.frames: list[Frame | Preface] = []
        self._reader = FrameReader()

    def request(
        self,
        method: str = "GET",
        path: str = "/",
        body: bytes = b"",
        *,
        end: bool = True,
        headers: Iterable[tuple[str, str]] = (),
    ) -> int:
        """Queue a request (HEADERS, then the body); `end=False` leaves the stream open."""
        stream_id = self.h2.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", "http")]
        fields += [(":authority", "localhost"), *headers]
        self.h2.send_headers(stream_id, fields, end_stream=end and not body)
        if body:
            self.h2.send_data(stream_id, body, end_stream=end)
        self.responses[stream_id] = Response(stream_id)
        return stream_id

    def reset(self, stream_id: int, error_code: ErrorCodes = ErrorCodes.CANCEL) -> None:
        """Queue RST_STREAM: the client cancels the stream (§6.4)."""
        self.h2.reset_stream(stream_id, error_code)

    def send(self) -> bytes:
        """The bytes queued so far, to hand to ``data_received``."""
        return self.h2.data_to_send()

    def receive(self, data: bytes) -> None:
        """Read what the server wrote: frames are decoded, responses filled in."""
        self.frames += self._reader.feed(data)
        for event in self.h2.receive_data(data):
            response = self.responses.get(getattr(event, "stream_id", 0) or 0)
            if response is None:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                response.headers = list(event.headers)  # type: ignore[arg-type]
                response.status = int(dict(response.headers)[":status"])
            elif isinstance(event, h2.events.DataReceived):
                response.body += event.data
                self.h2.acknowledge_received_data(event.flow_controlled_length, response.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                response.ended = True
            elif isinstance(event, h2.events.StreamReset):
                response.reset = event.error_code

    def frame_types(self) -> list[str]:
        """The types of the frames the server wrote, in order (``PREFACE`` never appears)."""
        return [frame.type for frame in self.frames if isinstance(frame, Frame)]
