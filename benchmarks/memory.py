"""Peak memory of a server while many clients upload at once.

A server that buffers whole request bodies (all three do: the application
gets the body in one piece) holds, at worst, every body in flight at the same
time. Flow control bounds how fast each body arrives (RFC 9113 §5.2, §6.9.1),
not how much of it the server keeps. So: start a fresh server, read its
resident set (VmRSS), let ``clients`` connections each POST ``body_size``
bytes at the same moment (h2load ``-c clients -n clients -m 1 -d FILE``),
then read its peak resident set (VmHWM, the "high water mark" Linux keeps in
/proc/PID/status).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.h2load import run_h2load
from benchmarks.servers import RunningServer, ServerSpec


def measure_peak_memory(spec: ServerSpec, body: Path, clients: int) -> dict[str, Any]:
    """Idle and peak RSS of a fresh `spec` server around `clients` simultaneous uploads."""
    body_size = body.stat().st_size
    record: dict[str, Any] = {
        "server": spec.name,
        "clients": clients,
        "body_size": body_size,
        "path": "/echo",
    }
    with RunningServer(spec) as server:
        record["baseline_kib"] = server.memory_kib()["VmRSS"]
        load = run_h2load(
            server.url + "/echo", clients=clients, streams=1, requests=clients, data_file=body
        )
        if not server.alive:
            load.ok = False
            load.error = f"server died: {server.log_tail(5)}"
        else:
            memory = server.memory_kib()
            record["peak_kib"] = memory["VmHWM"]
            record["after_kib"] = memory["VmRSS"]
    record["ok"] = load.ok
    record["error"] = load.error
    record["succeeded"] = load.succeeded
    return record
