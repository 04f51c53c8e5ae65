"""What the attacker received, in a few words for the table."""

from __future__ import annotations

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.wire import FrameScanner
from gethy.frames import FRAME_TYPES

__all__ = ["answers", "ending"]


def ending(attacker: Attacker, done: int, unit: str) -> str:
    """How the connection ended, if it did: GOAWAY, a close, or nothing yet ("")."""
    goaway = attacker.scanner.goaway
    if goaway is not None:
        return f"GOAWAY {goaway.name} after {done:,} {unit}"
    if attacker.closed:
        return f"connection closed after {attacker.open_for:.1f} s ({done:,} {unit})"
    return ""


def answers(scanner: FrameScanner, *, skip: dict[int, int] | None = None) -> str:
    """The frames received by type, e.g. ``200,000 PING``; `skip` discounts the handshake's."""
    skip = skip or {}
    parts = []
    for kind, n in scanner.counts.most_common():
        n -= skip.get(kind, 0)
        if n > 0:
            parts.append(f"{n:,} {FRAME_TYPES.get(kind, (f'type {kind:#x}',))[0]}")
    return ", ".join(parts) if parts else "nothing"
