"""The ceiling: a minimal asyncio server on bare h2, answering like gethy's default app.

Any HTTP/2 server written in Python on top of h2 must at least do what this
module does, so its requests/s are what gethy's layering is measured against:

* send the server preface, our SETTINGS (RFC 9113 §3.4), with gethy's default
  values (100 concurrent streams, 64 KiB header list, 65,535-byte windows);
* gather a request's HEADERS and DATA until END_STREAM (RFC 9113 §8.1) and hand
  back the receive window of every DATA frame at once (RFC 9113 §6.9.1);
* send each response body as the peer's stream and connection windows allow,
  in frames no larger than its SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.9, §4.2);
* write what one batch of input produced in one ``transport.write``; large
  bodies go out in writes of at most `WRITE_BUDGET` body bytes, more only
  while the transport takes them without pausing (backpressure).

It is written in the manner of h2's asyncio example (and of the seed article),
without its defects: a stream the client resets or closes is forgotten at once
instead of crashing a pending send, and output waits while the transport is
paused. It keeps h2's default configuration (header validation included):
h2 as anyone would use it. Run it alone with
``python -m benchmarks.bare_h2 --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, ClassVar

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings

from benchmarks.answers import Headers, answer

# gethy's defaults (gethy.protocol): a fair ceiling works under the same limits.
MAX_CONCURRENT_STREAMS = 100
MAX_HEADER_LIST_SIZE = 64 * 1024
INITIAL_WINDOW_SIZE = 65_535  # RFC 9113 §6.9.2

# Response body bytes put into one write (as gethy's server buffers at most 256 KiB per
# stream before it waits): see BareH2Connection.flush.
WRITE_BUDGET = 256 * 1024

Answer = Callable[[str, str, Headers, bytes], tuple[int, Headers, bytes]]


class BareH2Connection:
    """One server connection: h2 plus the least bookkeeping that answers requests.

    Sans-IO like gethy's `HTTP2Protocol`, so the micro-benchmark can feed both
    the same bytes: `receive` bytes, then write `conn.data_to_send()`.
    """

    def __init__(self, respond: Answer = answer) -> None:
        conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST_SIZE,
                SettingCodes.INITIAL_WINDOW_SIZE: INITIAL_WINDOW_SIZE,
            },
        )
        conn.decoder.max_header_list_size = MAX_HEADER_LIST_SIZE
        conn.initiate_connection()
        self.conn = conn
        self.respond = respond
        self.closed = False
        self._requests: dict[int, tuple[Headers, list[bytes]]] = {}
        self._unsent: dict[int, tuple[bytes, int]] = {}  # stream id -> (body, bytes sent)

    def receive(self, data: bytes, *, flush: bool = True) -> None:
        """Handle the client's bytes; `flush=False` keeps response data back (paused)."""
        try:
            events = self.conn.receive_data(data)
        except ProtocolError:
            self.closed = True  # h2 queued the GOAWAY (RFC 9113 §5.4.1): write it, then close
            return
        handlers = self._HANDLERS
        for event in events:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(self, event)
        if flush and self._unsent:
            self.flush()

    def _request_received(self, event: RequestReceived) -> None:
        self._requests[event.stream_id] = (event.headers, [])

    def _data_received(self, event: DataReceived) -> None:
        """Hand the window back at once (RFC 9113 §6.9.1), then keep the data."""
        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        request = self._requests.get(event.stream_id)
        if request is not None:
            request[1].append(event.data)

    def _stream_ended(self, event: StreamEnded) -> None:
        request = self._requests.pop(event.stream_id, None)
        if request is not None:
            self._answer(event.stream_id, *request)

    def _stream_reset(self, event: StreamReset) -> None:
        """Forget the stream at once, so that no pending send touches it."""
        self._requests.pop(event.stream_id, None)
        self._unsent.pop(event.stream_id, None)

    def _connection_terminated(self, event: ConnectionTerminated) -> None:
        self.closed = True

    # One dict lookup and one call per event; h2's other events need nothing from us. Kept
    # on the class, not bound per connection: no cycle keeps a closed connection alive.
    _HANDLERS: ClassVar[dict[type, Callable[[BareH2Connection, Any], None]]] = {
        RequestReceived: _request_received,
        DataReceived: _data_received,
        StreamEnded: _stream_ended,
        StreamReset: _stream_reset,
        ConnectionTerminated: _connection_terminated,
    }

    def _answer(self, stream_id: int, headers: Headers, chunks: list[bytes]) -> None:
        method = path = ""
        for name, value in headers:
            if name == ":method":
                method = value
            elif name == ":path":
                path = value
        status, response_headers, body = self.respond(method, path, headers, b"".join(chunks))
        try:
            self.conn.send_headers(
                stream_id, [(":status", str(status)), *response_headers], end_stream=not body
            )
        except ProtocolError:
            return  # the client's GOAWAY arrived in the same batch: the connection is over
        if body:
            self._unsent[stream_id] = (body, 0)  # sent by flush(), at the end of the batch

    @property
    def unsent(self) -> bool:
        """True while some response body waits for window or for its turn."""
        return bool(self._unsent)

    def flush(self, budget: int | None = None) -> None:
        """Send waiting bodies as far as the windows allow (RFC 9113 §6.9), at most `budget` bytes.

        The budget keeps each write, and h2's output buffer, small: a large body
        then goes out in pieces as the socket takes them, instead of being copied
        whole into one buffer (the asyncio side loops while the transport has room).
        """
        conn = self.conn
        max_frame = conn.max_outbound_frame_size
        left = budget if budget is not None else 1 << 62
        for stream_id in list(self._unsent):
            body, sent = self._unsent[stream_id]
            window = min(conn.local_flow_control_window(stream_id), left)  # stream, connection
            start = sent
            while window > 0:
                size = min(window, max_frame, len(body) - sent)
                end = sent + size == len(body)
                conn.send_data(stream_id, body[sent : sent + size], end_stream=end)
                sent += size
                window -= size
                if end:
                    del self._unsent[stream_id]
                    break
            else:
                self._unsent[stream_id] = (body, sent)
            left -= sent - start
            if left <= 0 or conn.outbound_flow_control_window <= 0:
                return


class BareH2Protocol(asyncio.Protocol):
    """`BareH2Connection` behind an asyncio transport: one write per batch of input."""

    def __init__(self) -> None:
        self.h2 = BareH2Connection()
        self.transport: asyncio.Transport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.h2.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        self.h2.receive(data, flush=False)
        self._write()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        # Not a write from inside the transport's own write path: a failing write there
        # would make asyncio report the lost connection twice. Write on the next turn.
        self.paused = False
        asyncio.get_running_loop().call_soon(self._write)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _write(self) -> None:
        """Write what h2 has, then more body while the transport takes it without pausing."""
        h2, transport = self.h2, self.transport
        if transport is None:
            return
        while not transport.is_closing():
            if not self.paused and h2.unsent:
                h2.flush(WRITE_BUDGET)
            output = h2.conn.data_to_send()
            if not output:
                break
            transport.write(output)  # may call pause_writing()
        if h2.closed:
            transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BareH2Protocol, host, port)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="minimal h2c server on bare h2 (the ceiling)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand: exit quietly
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
