"""Notebook 08's defences turn each attack's cost from growing with its size to bounded.

The classes are the notebook's own (its solution cells, run here), and gethy's
finished copy of them (`gethy.guarded`). Every assertion is on a cost that does
not depend on the machine: handler calls, frames parsed, bytes held. Each attack
runs at two sizes, the second twice the first: without the defences the cost
doubles; with them it is the same at both sizes, and under the budget's bound.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from gethy.attacklab import (
    READ_SIZE,
    AttackRun,
    continuation_flood,
    ping_flood,
    rapid_reset,
    run_attack,
    table_growth,
)
from gethy.core import CoreProtocol
from gethy.exercises import CheckFailed, ch08
from gethy.guarded import AnsweringProtocol, GuardedProtocol

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "08-errors-and-attacks.ipynb"
CALM = "GOAWAY ENHANCE_YOUR_CALM"


def _notebook_classes() -> dict:
    """Run the notebook's imports and every cell that defines its classes; return its names."""
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    wanted = [sources[0]] + [s for s in sources[1:] if "\nclass " in s or s.startswith(
        ("class ", "GET = "))]  # fmt: skip
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for source in wanted:
            exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # the notebook's own code
    return namespace


NOTEBOOK_CLASSES = _notebook_classes()
MITIGATED = {
    "notebook": NOTEBOOK_CLASSES["MyHTTP2Protocol"],
    "gethy.guarded": GuardedProtocol,
}


def _runs(make_protocol, attack, small: int) -> tuple[AttackRun, AttackRun]:
    """The attack at size `small` and at twice that, each on a new protocol."""
    return tuple(run_attack(make_protocol(), attack(size)) for size in (small, 2 * small))


def _frozen(cls):
    return lambda: cls(clock=lambda: 0.0)


def test_the_notebook_defines_its_four_defences_on_one_class():
    cls = NOTEBOOK_CLASSES["MyHTTP2Protocol"]
    for name in ("_stream_reset", "_header_fragment", "_ack_queued", "_settings_received"):
        assert name in {n for klass in cls.__mro__ for n in vars(klass)}, name
    assert issubclass(cls, CoreProtocol)


# ------------------------------------------------------------------ rapid reset


def test_rapid_reset_costs_one_handler_call_per_stream_without_a_budget():
    small, big = _runs(CoreProtocol, rapid_reset, 500)
    assert (small.last.handler_calls, big.last.handler_calls) == (500, 1000)
    assert (small.last.frames, big.last.frames) == (1001, 2001)
    assert small.ended == big.ended == "still open"


@pytest.mark.parametrize("where", MITIGATED)
def test_a_reset_budget_bounds_rapid_reset(where):
    cls = MITIGATED[where]
    small, big = _runs(_frozen(cls), rapid_reset, 500)
    assert small.ended == big.ended == CALM
    assert small.last.handler_calls == big.last.handler_calls == 0
    assert small.last.frames == big.last.frames
    one_read = READ_SIZE // 36 + 1  # a GET's HEADERS and its RST_STREAM: 36 bytes
    assert big.last.frames <= 1 + 2 * max(cls.RESET_BURST + 1, one_read)


# ------------------------------------------------------------- CONTINUATION flood


def test_h2_holds_a_continuation_flood_by_the_frame_up_to_64_frames():
    before = run_attack(CoreProtocol(), continuation_flood(100))
    held = [c.held for c in before.checkpoints]
    # The HEADERS frame carries 14 bytes of the block, each CONTINUATION 16 KiB: all kept.
    assert held[:64] == [14 + k * 16_384 for k in range(64)]
    assert before.peak_held == 14 + 64 * 16_384  # h2's CONTINUATION_BACKLOG: frames, not bytes
    assert before.ended.startswith("receive raised ProtocolError")  # out of the class from 04


@pytest.mark.parametrize("where", MITIGATED)
def test_a_cap_on_header_bytes_bounds_the_continuation_flood(where):
    cls = MITIGATED[where]
    small, big = _runs(_frozen(cls), continuation_flood, 40)
    assert small.ended == big.ended == CALM
    assert small.peak_held == big.peak_held <= cls.MAX_HEADER_BLOCK
    assert small.last.frames == big.last.frames <= 2 + cls.MAX_HEADER_BLOCK // 16_384 + 1


# ------------------------------------------------------------------- PING flood


def test_unread_ping_acks_pile_up_without_a_bound():
    small, big = _runs(CoreProtocol, ping_flood, 2000)
    assert (small.peak_held, big.peak_held) == (17 * 2000, 17 * 4000)
    assert small.ended == big.ended == "still open"


@pytest.mark.parametrize("where", MITIGATED)
def test_a_bound_on_queued_acks_bounds_the_ping_flood(where):
    cls = MITIGATED[where]
    small, big = _runs(_frozen(cls), ping_flood, 2000)
    assert small.ended == big.ended == CALM
    assert small.peak_held == big.peak_held
    one_read = READ_SIZE // 17 + 1
    assert big.peak_held <= 17 * (cls.MAX_QUEUED_ACKS + one_read + 1)


# ------------------------------------------------------------- HPACK table size


def test_an_hpack_table_of_2_to_the_32_grows_with_every_response():
    small, big = _runs(CoreProtocol, table_growth, 200)
    assert big.peak_held > 1.9 * small.peak_held
    assert (small.last.handler_calls, big.last.handler_calls) == (200, 400)


@pytest.mark.parametrize("where", MITIGATED)
def test_a_capped_encoder_table_bounds_it_and_still_answers_every_request(where):
    cls = MITIGATED[where]
    small, big = _runs(_frozen(cls), table_growth, 200)
    assert small.peak_held == big.peak_held <= cls.ENCODER_TABLE_CAP
    assert (small.last.handler_calls, big.last.handler_calls) == (200, 400)
    assert small.ended == big.ended == "still open"  # ordinary requests: served, not refused


# ------------------------------------------------------------------- the checks


class WithoutBudgets(AnsweringProtocol):
    """The notebook's class before the exercises: the constants, none of the defences."""

    RESET_BURST, RESET_RATE = 100, 10.0
    MAX_HEADER_BLOCK, MAX_QUEUED_ACKS, ENCODER_TABLE_CAP = 65_536, 1_000, 4_096


CHECKS = ["reset_budget", "header_cap", "ack_bound", "table_cap"]


@pytest.mark.parametrize("name", CHECKS)
def test_each_check_passes_the_defences_and_fails_without_them(name):
    for kind in ("check", "hidden"):
        check = getattr(ch08, f"{kind}_{name}")
        check(GuardedProtocol)
        with pytest.raises(CheckFailed, match="expected"):
            check(WithoutBudgets)
