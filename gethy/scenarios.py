"""Two scenarios the notebooks replay and plot, kept here so their cells stay short.

- `trickle_upload`, built in notebook 03 (receive): a client uploads one DATA
  frame per step while we sample the server's *receive* windows; without
  acknowledging data (RFC 9113 §6.9) the uploads stall. `plot_receive_windows`
  draws those samples.
- `slow_download`, built in notebook 04 (send): 1 MiB to a client that
  acknowledges 16 KiB a round, recorded by a `Recorder`, optionally with the
  client lowering SETTINGS_INITIAL_WINDOW_SIZE mid-response (§6.9.2).

Neither is exercise code: the learner reads what they return, not how.
"""

from __future__ import annotations

from typing import Any

from h2.settings import SettingCodes

from gethy.checks import pattern
from gethy.events import RequestEvent
from gethy.exercises.h2wire import new_client, request_headers
from gethy.pair import InMemoryPair
from gethy.protocol import HTTP2Protocol
from gethy.recorder import Recorder

Windows = dict[str, list[int]]


def trickle_upload(protocol: Any, sizes: list[int], max_steps: int = 40) -> tuple[Windows, int]:
    """Upload one body per size, one DATA frame per step; sample the receive windows.

    Returns (windows, completed): each window's size after every step, keyed
    "connection", "stream 1", ..., and how many requests the server emitted.
    Stops when every body is sent, or when the client may send nothing more.
    The streams take turns, one frame each, so both windows move.
    """
    client = new_client()
    bodies = {}
    for size in sizes:
        stream_id = client.get_next_available_stream_id()
        client.send_headers(stream_id, request_headers("POST", "/upload"))
        bodies[stream_id] = pattern(size)
    streams = list(bodies)
    conn = protocol.http2_connection
    windows: Windows = {"connection": []} | {f"stream {s}": [] for s in streams}
    completed = 0
    for _ in range(max_steps):
        events = protocol.receive(client.data_to_send())  # the client's bytes in...
        completed += sum(isinstance(event, RequestEvent) for event in events)
        client.receive_data(protocol.data_to_send())  # ...and the server's answer back
        windows["connection"].append(conn.inbound_flow_control_window)
        for s in streams:
            windows[f"stream {s}"].append(conn.streams[s].inbound_flow_control_window)
        ready = [s for s in bodies if client.local_flow_control_window(s) > 0]
        if not ready:
            break  # every body sent, or every window shut: a stall
        stream_id = ready[0]
        body = bodies.pop(stream_id)
        n = min(len(body), client.local_flow_control_window(stream_id))
        n = min(n, client.max_outbound_frame_size)
        client.send_data(stream_id, body[:n], end_stream=n == len(body))
        if n < len(body):
            bodies[stream_id] = body[n:]  # to the back of the line: streams take turns
    return windows, completed


def plot_receive_windows(windows: Windows, title: str) -> None:
    """One line per window; the connection's is wide and pale so the streams show on it."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    _, ax = plt.subplots(figsize=(8, 3.5))
    for label, sizes in windows.items():
        style = {"linewidth": 5, "alpha": 0.4} if label == "connection" else {"linewidth": 1.5}
        # Repeat the last size so the final state shows as a level, not a bare point.
        ax.step(range(len(sizes) + 1), sizes + sizes[-1:], where="post", label=label, **style)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-3_000, 70_000)
    ax.set_title(title)
    ax.set_xlabel("DATA frames sent by the client (one per step)")
    ax.set_ylabel("receive window (bytes)")
    ax.legend(loc="lower left")
    plt.show()


def slow_download(
    recorder: Recorder, lower_window_at: int | None = None, size: int = 1024 * 1024
) -> InMemoryPair:
    """`size` bytes to a client that acknowledges 16,384 bytes per round; prints a summary.

    With `lower_window_at`, the client lowers SETTINGS_INITIAL_WINDOW_SIZE to 16,384
    in that round. The loop is bounded (200 rounds).
    """
    body = pattern(size)
    server = HTTP2Protocol(recorder=recorder)
    pair = InMemoryPair(server=server, app=lambda request: (200, [], body), auto_ack=False)
    stream_id = pair.request("GET", "/big")
    for round_number in range(1, 201):
        pair.run()
        if pair.responses[stream_id].ended:
            break
        if round_number == lower_window_at:
            pair.change_settings({SettingCodes.INITIAL_WINDOW_SIZE: 16_384})
            pair.run()
            print(
                f"round {round_number}: INITIAL_WINDOW_SIZE lowered to 16,384; send window of "
                f"stream {stream_id}: {server.send_window(stream_id):,}, "
                f"connection: {server.send_window(0):,}"
            )
        pair.ack(nbytes=16_384)
    intact = bytes(pair.responses[stream_id].body) == body
    print(
        f"{round_number} rounds, {recorder.step} steps, {recorder.count('out', 'DATA')} DATA "
        f"frames, body intact: {intact}"
    )
    return pair
