"""Every attack of the suite, in the order of the table, with its quick and full sizes.

The full sizes are those of the reports behind each CVE (10,000 resets,
200,000 frames, 16 MiB uploads); the quick ones are a tenth or less, so
that the whole quick run stays near 30 s on 2 cores. The floods that never
read send 500,000 frames in the full mode: their ACKs (8.5 MB of PING ACKs,
4.5 MB of SETTINGS ACKs) must outgrow the server's socket send buffer (at
most 4 MiB on Linux by default, ``net.ipv4.tcp_wmem``), or the kernel
absorbs them and the variant tests nothing; in the quick mode they cannot.
Time bounds are upper limits: an attack the server stops ends sooner.
"""

from __future__ import annotations

from benchmarks.attacks import floods, headers, junk, limits, resets, slow
from benchmarks.attacks.model import Attack, Kind

__all__ = ["ATTACKS", "by_name"]

FLOOD, SLOW, OTHER = Kind.FLOOD, Kind.SLOW, Kind.OTHER

ATTACKS: tuple[Attack, ...] = (
    Attack("rapid-reset", "HEADERS(END_STREAM) + RST_STREAM pairs", "CVE-2023-44487",
           FLOOD, resets.rapid_reset, "streams", 2_000, 10_000, 5, 20),
    Attack("rapid-reset-open", "HEADERS (no END_STREAM) + RST_STREAM pairs", "CVE-2023-44487",
           FLOOD, resets.rapid_reset_open, "streams", 2_000, 10_000, 5, 20),
    Attack("madeyoureset-wu0", "request, then WINDOW_UPDATE 0 on its stream", "CVE-2025-8671",
           FLOOD, resets.window_update_zero, "streams", 2_000, 10_000, 5, 20),
    Attack("madeyoureset-data", "request, then DATA on its half-closed stream", "CVE-2025-8671",
           FLOOD, resets.data_on_half_closed, "streams", 2_000, 10_000, 5, 20),
    Attack("continuation-flood", "HEADERS then endless 1 kB CONTINUATIONs", "CVE-2024-27316",
           FLOOD, headers.continuation_flood, "frames", 5_000, 100_000, 5, 30),
    Attack("continuation-slow", "HEADERS then a 1-byte CONTINUATION every 0.5 s", "CVE-2024-27316",
           SLOW, headers.continuation_slow, "frames", 0, 0, 2.5, 10, slow_idle_timeout=True),
    Attack("hpack-bomb", "4 kB table entry referenced by 1-byte indexes", "CVE-2016-6581",
           OTHER, headers.hpack_bomb, "references", 16_000, 1_000_000, 5, 10),
    Attack("hpack-table", "HEADER_TABLE_SIZE 2^32-1, GET /bytes/i (new content-length)", "",
           OTHER, headers.hpack_table, "requests", 500, 5_000, 10, 60),
    Attack("ping-flood", "PING frames", "CVE-2019-9512",
           FLOOD, floods.ping_flood, "frames", 20_000, 200_000, 10, 60),
    Attack("ping-flood-unread", "PING frames, attacker never reads", "CVE-2019-9512",
           FLOOD, floods.ping_flood_unread, "frames", 20_000, 500_000, 2, 20),
    Attack("settings-flood", "empty SETTINGS frames", "CVE-2019-9515",
           FLOOD, floods.settings_flood, "frames", 20_000, 200_000, 10, 60),
    Attack("settings-flood-unread", "empty SETTINGS frames, attacker never reads", "CVE-2019-9515",
           FLOOD, floods.settings_flood_unread, "frames", 20_000, 500_000, 2, 20),
    Attack("empty-data-flood", "empty DATA frames on an open request", "CVE-2019-9518",
           FLOOD, floods.data_flood, "frames", 20_000, 200_000, 10, 60),
    Attack("window-update-flood", "WINDOW_UPDATE(+1) on the connection", "",
           FLOOD, floods.window_update_flood, "frames", 20_000, 200_000, 10, 60),
    Attack("priority-flood", "PRIORITY for ever new idle streams", "CVE-2019-9513",
           FLOOD, floods.priority_flood, "frames", 20_000, 200_000, 10, 60),
    Attack("streams-101", "101 concurrent streams, limit 100", "",
           OTHER, limits.too_many_streams, "streams", 101, 101, 3, 3, extra_targets=("refused",)),
    Attack("slow-reader", "GET /bytes/16777216 x N, never reads", "CVE-2019-9517",
           SLOW, slow.slow_reader, "streams", 20, 100, 2.5, 10),
    Attack("slow-preface", "the preface, one byte every 0.5 s", "",
           SLOW, slow.slow_preface, "bytes", 24, 24, 2.5, 12, slow_idle_timeout=True),
    Attack("abandoned-uploads", "connections leave 16 MiB uploads unfinished", "",
           OTHER, limits.abandoned_uploads, "connections", 4, 10, 20, 120, parallel=True),
    Attack("junk-bytes", "random bytes, with and without the preface", "",
           OTHER, junk.junk_bytes, "connections", 4, 20, 10, 60),
    Attack("http1-request", "an HTTP/1.1 GET on the h2c port", "",
           OTHER, junk.http1_request, "connections", 2, 10, 10, 60),
    Attack("tls-junk", "random bytes on a --tls port, before and after a handshake", "",
           OTHER, junk.tls_junk, "connections", 4, 20, 10, 60, tls=True),
)  # fmt: skip


def by_name(names: list[str]) -> list[Attack]:
    """The attacks named, in the suite's order; unknown names raise ValueError."""
    known = {attack.name for attack in ATTACKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [attack for attack in ATTACKS if attack.name in names]
