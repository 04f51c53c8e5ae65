"""What makes a request malformed (RFC 9113 §8.1.1), so that only its stream pays.

Not built in a notebook: notebook 08 (errors and attacks) shows why it is here.

h2 can check request headers itself, but it answers a malformed request with
GOAWAY, a connection error that also ends every other stream of the client.
RFC 9113 §8.1.1 asks for a stream error instead: RST_STREAM with
PROTOCOL_ERROR on that stream alone. So `HTTP2Protocol` switches h2's
inbound checks off and applies these, one request at a time.

A request is malformed when (RFC 9113 §8.2, §8.3):

* a field name is empty or has upper-case letters, or a field carries NUL,
  CR or LF, or a value starts or ends with a space or tab;
* it carries a connection-specific field (``connection``, ``keep-alive``,
  ``proxy-connection``, ``transfer-encoding``, ``upgrade``) or a ``te``
  other than ``trailers``;
* a pseudo-header is unknown, repeated, or follows a regular field;
* ``:method`` is missing; a request other than CONNECT lacks ``:scheme`` or a
  non-empty ``:path``; a CONNECT (§8.5) lacks ``:authority`` or has a
  ``:scheme`` or ``:path``;
* its trailers carry any pseudo-header (§8.1).
"""

from __future__ import annotations

import re

from gethy.stream import Headers

REQUEST_PSEUDO_HEADERS = frozenset({":method", ":scheme", ":authority", ":path", ":protocol"})
CONNECTION_SPECIFIC = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)
#: NUL, CR or LF anywhere in a field (RFC 9113 §8.2.1); one regex search, not three scans.
_FORBIDDEN = re.compile("[\x00\r\n]")


def field_problem(name: str, value: str) -> str | None:
    """Why one field is not allowed in HTTP/2 (RFC 9113 §8.2), or None."""
    if not name:
        return "an empty field name"
    if name != name.lower():
        return f"upper-case letters in the field name {name!r} (§8.2.1)"
    if _FORBIDDEN.search(name) or _FORBIDDEN.search(value):
        return f"NUL, CR or LF in the field {name!r} (§8.2.1)"
    if value != value.strip(" \t"):
        return f"white space around the value of {name!r} (§8.2.1)"
    if name in CONNECTION_SPECIFIC:
        return f"the connection-specific field {name!r} (§8.2.2)"
    if name == "te" and value != "trailers":
        return "te other than 'trailers' (§8.2.2)"
    return None


def request_problem(headers: Headers) -> str | None:
    """Why a request's header section is malformed, or None if it is fine."""
    pseudo: dict[str, str] = {}
    regular_seen = False
    for name, value in headers:
        if name.startswith(":"):
            if regular_seen:
                return f"the pseudo-header {name!r} after a regular field (§8.3)"
            if name not in REQUEST_PSEUDO_HEADERS:
                return f"the unknown pseudo-header {name!r} (§8.3)"
            if name in pseudo:
                return f"the pseudo-header {name!r} twice (§8.3.1)"
            if _FORBIDDEN.search(value):
                return f"NUL, CR or LF in {name!r} (§8.2.1)"
            pseudo[name] = value
            continue
        regular_seen = True
        problem = field_problem(name, value)
        if problem:
            return problem
    return _required_pseudo_problem(pseudo)


def _required_pseudo_problem(pseudo: dict[str, str]) -> str | None:
    """Which pseudo-headers a request lacks or must not have (§8.3.1, §8.5), or None.

    Apart from `request_problem`'s loop because these rules need the whole
    section: they judge which pseudo-headers came, not each one as it comes.
    """
    method = pseudo.get(":method")
    if not method:
        return "no :method (§8.3.1)"
    if method == "CONNECT" and ":protocol" not in pseudo:
        return _connect_problem(pseudo)
    if not pseudo.get(":scheme"):
        return "no :scheme (§8.3.1)"
    if not pseudo.get(":path"):
        return "no :path, or an empty one (§8.3.1)"
    return None


def _connect_problem(pseudo: dict[str, str]) -> str | None:
    """A plain CONNECT (§8.5) names only where to tunnel: :authority, no :scheme or :path.

    An extended CONNECT, with :protocol (RFC 8441), follows the regular rules instead.
    """
    if ":scheme" in pseudo or ":path" in pseudo or ":authority" not in pseudo:
        return "a CONNECT request needs :authority and no :scheme or :path (§8.5)"
    return None


def trailers_problem(trailers: Headers) -> str | None:
    """Why a trailer section is malformed (§8.1: no pseudo-headers), or None."""
    for name, value in trailers:
        if name.startswith(":"):
            return f"the pseudo-header {name!r} in trailers (§8.1)"
        problem = field_problem(name, value)
        if problem:
            return problem
    return None
