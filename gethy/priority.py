"""RFC 9218 extensible priorities: the `priority` request header, parsed.

Built in notebook 06 (multiplexing): `Priority`, `parse_priority`, `request_priority`.

HTTP/2 first had a priority *tree* (RFC 7540 §5.3: weights and dependencies
between streams). Few servers honoured it and fewer clients used it well, so
RFC 9113 §5.3.2 deprecates it (h2 still parses the PRIORITY frames and the
HEADERS priority fields; gethy ignores them). Its replacement, RFC 9218, is a
plain request header that any HTTP version carries::

    priority: u=0          # urgency 0 (most urgent) .. 7 (least); default 3 (§4.1)
    priority: u=5, i       # incremental: the client uses the body as it arrives (§4.2)

The value is a Structured Field Dictionary (RFC 8941 §3.2). Unknown keys, and
values out of range or of an unexpected type, MUST be ignored (RFC 9218 §4); a
field that fails to parse at all gets the default values (§5). So this module
is a small but complete RFC 8941 dictionary parser (`parse_dictionary`), and two
functions on top of it. How a server *uses* the signal is `gethy.scheduler`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: The urgencies RFC 9218 §4.1 defines, most urgent first.
URGENCIES = range(8)
DEFAULT_URGENCY = 3


@dataclass(frozen=True)
class Priority:
    """One response's priority (RFC 9218 §4): how urgent, and whether it is used as it arrives.

    ``urgency`` runs from 0 (most urgent) to 7 (background, §4.1). An
    ``incremental`` response is useful piece by piece (a progressive image, a
    stream of events), so sharing the connection with others of its urgency
    helps; a non-incremental one (a script, a stylesheet) is useless until
    complete, so it is best sent whole, one after another (§4.2, §10).
    """

    urgency: int = DEFAULT_URGENCY
    incremental: bool = False

    def __post_init__(self) -> None:
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be 0..7 (RFC 9218 §4.1), not {self.urgency!r}")


#: What a request that says nothing gets: RFC 9218 §4's defaults, u=3 and not incremental.
DEFAULT_PRIORITY = Priority()


class StructuredFieldError(ValueError):
    """A field value that is not a valid RFC 8941 Dictionary."""


# --------------------------------------------------------- RFC 8941 §4.2, parsing

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_OWS = " \t"


class _Reader:
    """The input and a position in it; each parse step consumes what it read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise StructuredFieldError(f"expected {what} at position {self.pos}: {self.text!r}")
        self.pos = found.end()
        return found

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1


def _number(reader: _Reader) -> int | float:
    """sf-integer (at most 15 digits) or sf-decimal (12 digits, a dot, 1 to 3 digits)."""
    text = reader.match(_NUMBER, "a number").group()
    digits = text.lstrip("-")
    if "." not in text:
        if len(digits) > 15:
            raise StructuredFieldError(f"integer longer than 15 digits: {text}")
        return int(text)
    whole, fraction = digits.split(".")
    if len(whole) > 12 or not 1 <= len(fraction) <= 3:
        raise StructuredFieldError(f"malformed decimal: {text}")
    return float(text)


def _string(reader: _Reader) -> str:
    """sf-string: printable ASCII in double quotes; only \\" and \\\\ escaped."""
    reader.pos += 1  # the opening quote
    out = []
    while True:
        char = reader.peek()
        reader.pos += 1
        if char == "":
            raise StructuredFieldError("unterminated string")
        if char == '"':
            return "".join(out)
        if char == "\\":
            char = reader.peek()
            reader.pos += 1
            if char not in ('"', "\\"):
                raise StructuredFieldError(f"bad escape in string: \\{char}")
        elif not " " <= char <= "~":
            raise StructuredFieldError(f"character {char!r} not allowed in a string")
        out.append(char)


class Token(str):
    """An sf-token (a bare word such as ``foo``): kept apart from an sf-string."""


def _bare_item(reader: _Reader) -> object:
    """One bare item (RFC 8941 §4.2.3.1): integer, decimal, string, token, bytes or boolean."""
    char = reader.peek()
    if char == "-" or char.isdigit():
        return _number(reader)
    if char == '"':
        return _string(reader)
    if char == "?":
        value = reader.text[reader.pos + 1 : reader.pos + 2]
        if value not in ("0", "1"):
            raise StructuredFieldError(f"a boolean is ?0 or ?1: {reader.text!r}")
        reader.pos += 2
        return value == "1"
    if char == ":":
        return bytes(reader.match(_BYTES, "a byte sequence").group(1), "ascii")
    return Token(reader.match(_TOKEN, "an item").group())


def _parameters(reader: _Reader) -> None:
    """Parameters (``;key=value``) after a member: parsed for validity, then ignored."""
    while reader.peek() == ";":
        reader.pos += 1
        reader.skip(" ")
        reader.match(_KEY, "a parameter key")
        if reader.peek() == "=":
            reader.pos += 1
            _bare_item(reader)


def _inner_list(reader: _Reader) -> tuple[object, ...]:
    """``(item item ...)`` (RFC 8941 §4.2.1.2), with each item's parameters."""
    reader.pos += 1  # the opening parenthesis
    items = []
    while True:
        reader.skip(" ")
        if reader.peek() == ")":
            reader.pos += 1
            _parameters(reader)
            return tuple(items)
        items.append(_bare_item(reader))
        _parameters(reader)
        if reader.peek() not in (" ", ")"):
            raise StructuredFieldError(f"inner list items are separated by spaces: {reader.text!r}")


def parse_dictionary(value: str) -> dict[str, object]:
    """An RFC 8941 Dictionary (§4.2.2) as ``{key: value}``; parameters are dropped.

    A key alone means boolean true; a key given twice keeps its last value.
    Raises `StructuredFieldError` for anything that is not a valid dictionary:
    then RFC 8941 §4.2 says to ignore the whole field.
    """
    reader = _Reader(value)
    reader.skip(" ")
    members: dict[str, object] = {}
    while reader.peek():
        key = reader.match(_KEY, "a key").group()
        member: object = True
        if reader.peek() == "=":
            reader.pos += 1
            member = _inner_list(reader) if reader.peek() == "(" else _bare_item(reader)
        _parameters(reader)
        members.pop(key, None)  # the last one wins, in its own place
        members[key] = member
        reader.skip(_OWS)
        if not reader.peek():
            break
        if reader.peek() != ",":
            raise StructuredFieldError(f"expected ',' at position {reader.pos}: {value!r}")
        reader.pos += 1
        reader.skip(_OWS)
        if not reader.peek():
            raise StructuredFieldError(f"a trailing comma: {value!r}")
    return members


# ---------------------------------------------------------------- RFC 9218


def parse_priority(value: str | None) -> Priority:
    """The priority in one ``priority`` field value (RFC 9218 §4, §5).

    ``u`` must be an integer 0..7 and ``i`` a boolean; any other key, or a
    ``u``/``i`` of another type or out of range, is ignored (§4). A value
    that is not a valid Dictionary at all gets the defaults (§5), as does None.
    """
    if value is None:
        return DEFAULT_PRIORITY
    try:
        members = parse_dictionary(value)
    except StructuredFieldError:
        return DEFAULT_PRIORITY
    urgency = members.get("u")
    incremental = members.get("i")
    if type(urgency) is not int or urgency not in URGENCIES:
        urgency = DEFAULT_URGENCY  # bool is an int subclass: type() keeps ?1 out
    if type(incremental) is not bool:
        incremental = False
    return Priority(urgency, incremental)


def request_priority(headers: Iterable[tuple[str, str]]) -> Priority | None:
    """The priority a request asks for, or None if it carries no ``priority`` field.

    Several ``priority`` field lines are one list, joined with commas in order
    (RFC 9110 §5.3), so ``u=1`` then ``i`` means ``u=1, i``.
    """
    values = [value for name, value in headers if name == "priority"]
    if not values:
        return None
    return parse_priority(", ".join(values))
