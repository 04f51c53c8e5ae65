"""What an attack is, what it is given, and what it reports back.

An `Attack` is a plain function from a `Context` (where the server listens,
how big and how long this mode allows) to an `Outcome` (what the attacker saw,
in words and numbers). The runner (`benchmarks.attacks.runner`) does the
measuring around it: the attack only attacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Attack", "Context", "Kind", "Outcome"]


class Kind(Enum):
    """Which targets apply beyond the common ones (see `benchmarks.attacks.targets`)."""

    #: Many cheap frames: the server must stop it, or its CPU cost must stay bounded.
    FLOOD = "flood"
    #: Bytes trickle in, or are never read: the server must cut the connection in time.
    SLOW = "slow"
    #: Anything else: a burst, a limit probed, bad bytes.
    OTHER = "other"


@dataclass(frozen=True)
class Context:
    """What one run of an attack may do: where, how much, how long."""

    port: int
    size: int  # the attack's own count: frames, streams, connections (see Attack.unit)
    seconds: float  # the longest the attack may last
    idle_timeout: float  # the server's --idle-timeout
    quick: bool
    tls: bool = False
    #: The server's CPU seconds so far: an attack waits for them to stop growing before it
    #: leaves (`Attacker.wait_quiet`), or it would leave unprocessed bytes behind.
    server_cpu: Callable[[], float] = lambda: 0.0
    #: The attack's local ports, filled in as it connects (see `benchmarks.attacks.attacker`).
    client_ports: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    """What the attacker saw.

    ``received`` says it in words ("GOAWAY ENHANCE_YOUR_CALM after 1,013
    streams"). ``sent`` counts what went out, in the attack's unit, over
    ``connections`` connections.
    ``stopped`` is True when the server ended or refused the attack before it
    ran out (GOAWAY, close, or it stopped reading): then its cost does not
    grow with the attack's size. ``held`` is, for slow attacks, how many
    seconds the server kept the connection open (None: still open at the end).
    """

    received: str
    sent: int
    connections: int = 1
    stopped: bool = False
    held: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attack:
    """One row of the suite."""

    name: str
    title: str
    cve: str  # "" when the attack has no CVE of its own
    kind: Kind
    run: Callable[[Context], Outcome]
    unit: str  # what `quick`/`full` count
    quick: int
    full: int
    quick_seconds: float
    full_seconds: float
    parallel: bool = False  # several connections at once: the latency target does not apply
    tls: bool = False
    slow_idle_timeout: bool = False  # needs an idle timeout well above its 0.5 s trickle
    extra_targets: tuple[str, ...] = ()  # targets of its own (`benchmarks.attacks.targets`)

    def size(self, quick: bool) -> int:
        return self.quick if quick else self.full

    def seconds(self, quick: bool) -> float:
        return self.quick_seconds if quick else self.full_seconds
