"""Our SETTINGS (RFC 9113 §6.5): what we advertise, and when a stricter limit binds.

Not built in a notebook: notebook 03 sends h2's default SETTINGS as the server
preface; `HTTP2Protocol` advertises its own limits with these functions.

Until the client acknowledges our SETTINGS it may rely on the defaults
(§6.5.3, §6.9.3). So the first SETTINGS frame never asks for less than the
defaults, and any stricter limit goes in a second frame, which h2 applies
only when the client's ACK arrives.
"""

from __future__ import annotations

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.settings import SettingCodes, Settings

DEFAULT_INITIAL_WINDOW_SIZE = 65_535  # §6.9.2


def h2_configuration() -> H2Configuration:
    """h2 on the server side with its header checks off: gethy makes them itself.

    Requests are judged by `gethy.messages`, so that a malformed one costs only
    its stream (§8.1.1) instead of h2's GOAWAY; responses by `gethy.fields`.
    """
    return H2Configuration(
        client_side=False,
        validate_inbound_headers=False,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )


def advertise(conn: H2Connection, wanted: dict[SettingCodes, int]) -> None:
    """Before the preface: our first SETTINGS, never stricter than the defaults."""
    starting = {key: max(value, conn.local_settings[key]) for key, value in wanted.items()}
    conn.local_settings = Settings(client=False, initial_values=starting)
    conn.decoder.max_header_list_size = conn.local_settings.max_header_list_size


def send_stricter(conn: H2Connection, wanted: dict[SettingCodes, int]) -> None:
    """After the preface: the stricter limits, and a larger connection window if asked."""
    stricter = {key: value for key, value in wanted.items() if value < conn.local_settings[key]}
    if stricter:
        conn.update_settings(stricter)
    grow = wanted.get(SettingCodes.INITIAL_WINDOW_SIZE, 0) - DEFAULT_INITIAL_WINDOW_SIZE
    if grow > 0:  # SETTINGS sizes stream windows; the connection's grows by WINDOW_UPDATE
        conn.increment_flow_control_window(grow)


def acknowledged(conn: H2Connection, changed: dict, receiving: list[int]) -> None:
    """The client acknowledged our SETTINGS: a smaller INITIAL_WINDOW_SIZE binds now.

    h2 may sit on acknowledged bytes it has not handed back (it waits for half
    a window); without a recheck, a client uploading on `receiving` streams
    with no window left would wait forever.
    """
    if SettingCodes.INITIAL_WINDOW_SIZE in changed:
        for stream_id in receiving:
            conn.acknowledge_received_data(0, stream_id)
