"""A real h2 server connection and its client, wired by hand, for the exercise checks.

Not built in a notebook, though `new_client` and `request_headers` are the
helpers of notebook 03 by the same names: checks of notebooks 03 and 04 (and
gethy's scenarios) drive the learner's code with a real `H2Connection`, so
windows, frame sizes and refusals are h2's own, not a model of them.
"""

from __future__ import annotations

from typing import NamedTuple

from h2.config import H2Configuration
from h2.connection import H2Connection

from gethy.frames import decode_frames


def new_client() -> H2Connection:
    """An h2 client connection with its preface queued (RFC 9113 §3.4)."""
    client = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    client.initiate_connection()
    return client


def request_headers(method: str, path: str) -> list[tuple[str, str]]:
    """The four pseudo-headers every request except CONNECT carries (RFC 9113 §8.3.1)."""
    return [(":method", method), (":path", path), (":scheme", "http"), (":authority", "localhost")]


GET = request_headers("GET", "/")


def exchange(server: H2Connection, client: H2Connection) -> None:
    """Carry the client's bytes to the server and the answers back, until both are quiet."""
    for _ in range(100):  # bounded: each round moves what the other side queued
        wire = client.data_to_send()
        if not wire:
            return
        server.receive_data(wire)
        client.receive_data(server.data_to_send())


def connected(*stream_ids: int) -> tuple[H2Connection, H2Connection]:
    """An h2 server that answered a GET on each of `stream_ids` with HEADERS, and its client.

    Everything the server sent so far has been collected: from here on, `sent`
    shows only what the code under test hands to h2.
    """
    client = H2Connection(H2Configuration(client_side=True))
    client.initiate_connection()
    for stream_id in stream_ids:
        client.send_headers(stream_id, GET, end_stream=True)
    server = H2Connection(H2Configuration(client_side=False))
    server.initiate_connection()
    exchange(server, client)
    for stream_id in stream_ids:
        server.send_headers(stream_id, [(":status", "200")])  # HEADERS are not flow controlled
    client.receive_data(server.data_to_send())
    exchange(server, client)
    return server, client


class SentFrame(NamedTuple):
    """One frame the server sent, as a check compares it: equal to a plain 4-tuple."""

    type: str
    stream: int
    length: int
    end_stream: bool


def sent(server: H2Connection) -> list[SentFrame]:
    """The frames the server sends now, as (type, stream, length, END_STREAM?)."""
    return [
        SentFrame(f.type, f.stream_id, f.length, "END_STREAM" in f.flags)
        for f in decode_frames(server.data_to_send())
    ]


def open_windows(server: H2Connection, client: H2Connection, increment: int, *streams: int) -> None:
    """The client gives `increment` more bytes of window: on the connection and on `streams`."""
    client.increment_flow_control_window(increment)
    for stream_id in streams:
        client.increment_flow_control_window(increment, stream_id=stream_id)
    exchange(server, client)
