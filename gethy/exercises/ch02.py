"""The checks of notebook 02 (h2's event model): an upload in events, and HPACK block sizes."""

from __future__ import annotations

from collections.abc import Callable

import h2.events
import hpack

from gethy.exercises import CheckFailed, attempt, expect, passed

Fields = list[tuple[str, str]]


def _expect_upload(upload: Callable[[bytes], list], body: bytes) -> list:
    """What the server must see for a POST of `body`: the headers, DATA frames, the end."""
    sent = f"upload() of {len(body):,} bytes"
    events = attempt(sent, lambda: upload(body))
    first = events[0] if events else None
    if not isinstance(first, h2.events.RequestReceived):
        raise CheckFailed(
            f"{sent}: the server's first event should be RequestReceived, got {first}"
        )
    request = dict(first.headers)
    expect(
        f"{sent}: method and path",
        ("POST", "/upload"),
        (request.get(":method"), request.get(":path")),
    )
    received = [e for e in events if isinstance(e, h2.events.DataReceived)]
    for data_event in received:
        size = data_event.flow_controlled_length
        if not 0 <= size <= 16_384:
            raise CheckFailed(f"{sent}: a DATA frame of {size:,} bytes (at most 16,384)")
        if not (data_event.data or data_event.stream_ended):
            raise CheckFailed(f"{sent}: an empty DATA frame without END_STREAM")
    arrived = b"".join(e.data for e in received)
    if arrived != body:
        raise CheckFailed(f"{sent}: the server got {len(arrived):,} other bytes")
    last = events[-1]
    if not (isinstance(last, h2.events.StreamEnded) and last.stream_id == 1):
        raise CheckFailed(
            f"{sent}: the server's last event should be StreamEnded on stream 1, got {last}"
        )
    return events


def check_upload(upload: Callable[[bytes], list], body: bytes) -> list:
    """Exercise 2.1: a POST of `body` arrives as RequestReceived, DATA, StreamEnded."""
    events = _expect_upload(upload, body)
    passed("2.1")
    return events


def hidden_upload(upload: Callable[[bytes], list]) -> None:
    # Bodies that end exactly on a frame boundary, or fit in one byte.
    for size in (32_768, 1):
        _expect_upload(upload, (bytes(range(7, 256)) * 140)[:size])


def _expect_block_sizes(header_block_sizes: Callable, requests: list[Fields]) -> None:
    """h2 encodes with hpack: a lone hpack.Encoder fed the same lists agrees."""
    encoder = hpack.Encoder()
    expected = [len(encoder.encode(fields)) for fields in requests]
    what = f"header_block_sizes of {len(requests)} requests on one connection"
    expect(what, expected, attempt(what, lambda: header_block_sizes(requests)))


def check_header_block_sizes(
    header_block_sizes: Callable, request: Fields, about: Fields, same_connection: list[int]
) -> list[int]:
    """Exercise 2.3: the experiment's two requests, then one with another path."""
    sizes = attempt("header_block_sizes", lambda: header_block_sizes([request, request, about]))
    expect("the first two requests are the experiment above", same_connection[:2], sizes[:2])
    if not (len(sizes) == 3 and 6 < sizes[2] < sizes[0]):
        raise CheckFailed(
            "the third is five one-byte indexes plus one literal path, so between 7 and "
            f"{sizes[0] - 1} bytes: got {sizes[2:]}"
        )
    _expect_block_sizes(header_block_sizes, [request, request, about])
    passed("2.3")
    return sizes


def hidden_header_block_sizes(header_block_sizes: Callable, about: Fields) -> None:
    form = [
        (":method", "POST"),
        (":path", "/form"),
        (":scheme", "http"),
        (":authority", "localhost"),
    ]
    form.append(("content-type", "text/plain"))
    _expect_block_sizes(header_block_sizes, [form, form[:4], form, about])
