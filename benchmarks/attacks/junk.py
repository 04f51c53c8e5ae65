"""Bytes that are not HTTP/2 at all, one connection after another.

* **Junk on the h2c port**: random bytes where the preface should be, or the
  preface (RFC 9113 §3.4) followed by random bytes where frames should be.
  Either way a connection error (§3.4, §4.1, §5.4.1), never a traceback.
* **HTTP/1.1 on the h2c port**: a client that does not know (RFC 9113 §3.3);
  gethy answers ``505`` in HTTP/1.1 (`gethy.sniff`).
* **TLS junk on a --tls port**: random bytes instead of a ClientHello, and
  random bytes after a good handshake that chose ``h2`` by ALPN (§3.2).

The bytes are random but the same on every run (a seeded generator).
"""

from __future__ import annotations

import random
from collections import Counter

from benchmarks.attacks.attacker import Attacker
from benchmarks.attacks.model import Context, Outcome
from benchmarks.attacks.wire import CONNECTION_PREFACE

__all__ = ["http1_request", "junk_bytes", "tls_junk"]

WAIT = 1.0  # seconds each connection waits for the server's answer and close
HTTP1 = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: attacks\r\n\r\n"


def _junk(seed: int) -> bytes:
    generator = random.Random(seed)
    return generator.randbytes(generator.randrange(1, 64 * 1024))


def _one(attacker: Attacker, data: bytes) -> str:
    """Send `data`, wait for the close, and say what came back."""
    try:
        attacker.send(data)
        attacker.read_until(None, WAIT)
    finally:
        attacker.close()
    scanner = attacker.scanner
    if attacker.head.startswith(b"HTTP/1.1 "):
        answer = attacker.head.split(b"\r\n", 1)[0].decode("latin-1")
    elif scanner.goaway is not None:
        answer = f"GOAWAY {scanner.goaway.name}"
    elif attacker.head:
        answer = f"{len(attacker.head)} bytes"
    else:
        answer = "nothing"
    return f"{answer}, {'closed' if attacker.closed else 'left open'}"


def _summary(answers: Counter[str]) -> str:
    return "; ".join(f"{answer} x{n}" for answer, n in answers.most_common())


def junk_bytes(ctx: Context) -> Outcome:
    """`ctx.size` connections: random bytes; every other one after a good preface."""
    answers: Counter[str] = Counter()
    for n in range(ctx.size):
        prefix = CONNECTION_PREFACE if n % 2 else b""
        answers[_one(Attacker(ctx), prefix + _junk(n))] += 1
    return Outcome(_summary(answers), ctx.size, connections=ctx.size, stopped=True)


def http1_request(ctx: Context) -> Outcome:
    """`ctx.size` connections, each an HTTP/1.1 GET."""
    answers: Counter[str] = Counter()
    for _ in range(ctx.size):
        answers[_one(Attacker(ctx), HTTP1)] += 1
    return Outcome(_summary(answers), ctx.size, connections=ctx.size, stopped=True)


def tls_junk(ctx: Context) -> Outcome:
    """`ctx.size` connections to a TLS port: raw junk, or junk after an h2 handshake."""
    answers: Counter[str] = Counter()
    for n in range(ctx.size):
        handshake = bool(n % 2)
        label = "after handshake" if handshake else "no handshake"
        answer = _one(Attacker(ctx, tls=handshake), _junk(n))
        answers[f"{label}: {answer}"] += 1
    return Outcome(_summary(answers), ctx.size, connections=ctx.size, stopped=True)
