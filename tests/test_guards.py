"""gethy.guards: each guard alone, with the clock as a plain number (no socket, no loop)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from typing import Any

import pytest

from gethy.guards.accept import AcceptGuard, RefusalCounter
from gethy.guards.idle import PREFACE_TIMEOUT, IdleAction, IdleGuard
from gethy.guards.linger import CLOSE_TIMEOUT, LINGER, Linger
from gethy.guards.output import OUTPUT_BUDGET, OutputBudget
from gethy.guards.uploads import MAX_SERVER_REQUEST_BUFFER, UploadBudget, UploadMeter

# ----------------------------------------------------------------- idle timer


def check(guard: IdleGuard, now: float, **state: object) -> tuple[IdleAction, str, float]:
    arguments: dict[str, object] = {
        "progress": 0,
        "preface_seen": True,
        "streams": 0,
        "output_waiting": False,
    }
    arguments.update(state)
    verdict = guard.check(now, **arguments)  # type: ignore[arg-type]
    return verdict.action, verdict.reason, verdict.delay


def test_no_preface_within_the_timeout_is_closed() -> None:
    guard = IdleGuard(10, now=0)
    assert guard.first_delay == 10
    assert check(guard, 4, preface_seen=False)[::2] == (IdleAction.WAIT, 6)
    assert check(guard, 10, preface_seen=False)[:2] == (
        IdleAction.CLOSE,
        "no HTTP/2 preface within 10 s",
    )


def test_the_preface_deadline_is_absolute_and_at_most_preface_timeout() -> None:
    # One preface byte every half second used to restart the clock each time.
    guard = IdleGuard(60, now=0)
    assert guard.first_delay == PREFACE_TIMEOUT == 10
    for tenth in range(1, 100):
        guard.heard(tenth / 10)
        assert check(guard, tenth / 10, preface_seen=False)[0] is IdleAction.WAIT
    assert check(guard, 10, preface_seen=False)[:2] == (
        IdleAction.CLOSE,
        "no HTTP/2 preface within 10 s",
    )
    assert IdleGuard(2, now=0, preface_timeout=10).first_delay == 2  # never beyond the timeout


def test_an_idle_connection_is_shut_down_and_progress_postpones_it() -> None:
    guard = IdleGuard(0.5, now=100)
    guard.observe(1, 100.4)  # a request moved at 100.4
    action, _, delay = check(guard, 100.5, progress=1)
    assert action is IdleAction.WAIT and delay == pytest.approx(0.4)
    assert check(guard, 100.9, progress=1)[:2] == (IdleAction.SHUTDOWN, "idle for 0.5 s")


def test_bytes_without_progress_postpone_nothing() -> None:
    # PINGs, or a header block one CONTINUATION byte at a time (RFC 9113 §6.10):
    # h2 reports no request until the block ends, so progress does not move.
    guard = IdleGuard(2, now=0)
    for half in range(1, 4):
        guard.heard(half / 2)
        assert check(guard, half / 2)[0] is IdleAction.WAIT
    assert check(guard, 2)[:2] == (IdleAction.SHUTDOWN, "idle for 2 s")


def test_open_streams_are_not_idle_while_they_move() -> None:
    guard = IdleGuard(1, now=0)
    for second in range(1, 5):  # quiet on the wire, but the protocol progresses
        action, _, _ = check(guard, second, streams=1, progress=second)
        assert action is IdleAction.WAIT


def test_a_client_that_stopped_reading_is_aborted() -> None:
    guard = IdleGuard(2, now=0)
    guard.observe(1, 0)
    action, reason, _ = check(guard, 2, streams=3, progress=1, output_waiting=True)
    assert action is IdleAction.ABORT and reason == "the client stopped reading for 2 s"


def test_streams_that_do_not_move_are_cut_although_bytes_arrive() -> None:
    # Slowloris: PINGs keep the wire busy (heard), but no stream makes progress.
    guard = IdleGuard(1, now=0)
    guard.observe(7, 0.1)
    assert check(guard, 0.1, streams=1, progress=7)[0] is IdleAction.WAIT
    guard.heard(1.0)
    action, reason, _ = check(guard, 1.1, streams=1, progress=7, output_waiting=True)
    assert action is IdleAction.CUT_STALLED  # bytes came: it reads, so GOAWAY can reach it
    assert reason == "no stream moved for 1 s, 1 stream(s) unfinished"


def test_the_stall_clock_starts_at_the_last_progress_not_at_the_first_check() -> None:
    # An unfinished upload: its last DATA at 0.5, then silence. Cut at 1.5, not at 2.
    guard = IdleGuard(1, now=0)
    guard.observe(3, 0.5)
    assert check(guard, 1.0, streams=1, progress=3)[::2] == (IdleAction.WAIT, 0.5)
    assert check(guard, 1.5, streams=1, progress=3)[0] is IdleAction.CUT_STALLED


def test_a_silent_connection_is_checked_once_per_deadline_never_in_a_loop() -> None:
    """Follow the timer as the connection arms it: every WAIT runs to the deadline."""
    guard = IdleGuard(1, now=0)
    guard.observe(1, 0.25)  # the request headers, then nothing
    now, checks = 0.0, 0
    now += guard.first_delay
    while True:
        checks += 1
        action, _, delay = check(guard, now, streams=1, progress=1)
        if action is not IdleAction.WAIT:
            break
        assert delay >= 0.001  # never "again at once"
        now += delay
        assert checks < 10
    assert action is IdleAction.CUT_STALLED
    assert now == pytest.approx(1.25) and checks == 2


def test_a_timer_that_fires_a_hair_early_acts_instead_of_rearming() -> None:
    guard = IdleGuard(1, now=0)
    assert check(guard, 1 - 1e-7)[0] is IdleAction.SHUTDOWN
    assert check(IdleGuard(1, now=0), 0.999999, preface_seen=False)[0] is IdleAction.CLOSE


# ----------------------------------------------------------- rapid reset bucket


def test_the_output_budget_admits_up_to_its_limit() -> None:
    assert OutputBudget().admits(OUTPUT_BUDGET)
    assert not OutputBudget().admits(OUTPUT_BUDGET + 1)
    assert OutputBudget(limit=0).admits(0) and not OutputBudget(limit=0).admits(1)


# --------------------------------------------------------------- lingering close


def test_linger_waits_for_the_buffer_then_the_linger_time() -> None:
    linger = Linger(now=50)
    assert linger.first_check <= LINGER
    assert not linger.should_cut(50 + LINGER / 2, unsent=0)  # still lingering
    assert not linger.should_cut(50 + LINGER, unsent=1000)  # our bytes still leaving
    assert linger.should_cut(50 + LINGER, unsent=0)
    assert linger.should_cut(50 + CLOSE_TIMEOUT, unsent=1000)  # a client that never reads


# ------------------------------------------------------- server upload budget


def test_the_upload_budget_holds_uploaders_until_the_total_is_within_the_limit() -> None:
    budget = UploadBudget(limit=100)
    events: list[str] = []
    first = UploadMeter(budget, lambda: events.append("pause 1"), lambda: events.append("go 1"))
    second = UploadMeter(budget, lambda: events.append("pause 2"), lambda: events.append("go 2"))
    first.update(60)
    second.update(30)
    assert budget.total == 90 and not budget.over and events == []
    second.update(50)  # 110: the one that grew waits
    assert budget.over and events == ["pause 2"] and budget.held == 1
    first.update(70)  # still over and growing: waits too
    assert events == ["pause 2", "pause 1"] and budget.held == 2
    first.update(60)  # 110: still over, nobody goes
    assert budget.held == 2
    first.update(0)  # 50: within the limit, both go on
    assert events[2:] == ["go 2", "go 1"] or events[2:] == ["go 1", "go 2"]
    assert budget.held == 0 and budget.total == 50
    second.update(0)
    second.leave()
    assert budget.total == 0


def test_a_meter_without_a_budget_only_counts() -> None:
    meter = UploadMeter(None, lambda: None, lambda: None)
    meter.update(10**9)
    assert meter.counted == 10**9
    meter.leave()
    assert MAX_SERVER_REQUEST_BUFFER == 256 * 1024 * 1024


def test_a_connection_that_leaves_is_not_resumed() -> None:
    budget = UploadBudget(limit=10)
    resumed: list[int] = []
    meter = UploadMeter(budget, lambda: None, lambda: resumed.append(1))
    meter.update(20)
    meter.leave()
    budget.change(-20)
    assert resumed == [] and budget.held == 0


# ------------------------------------------------------- out of file descriptors


class FakeLoop:
    """What AcceptGuard uses of a loop: the handler slot, the clock, the default handler."""

    def __init__(self) -> None:
        self.now = 0.0
        self.handler: Any = None
        self.defaults: list[dict[str, Any]] = []

    def time(self) -> float:
        return self.now

    def get_exception_handler(self) -> Any:
        return self.handler

    def set_exception_handler(self, handler: Any) -> None:
        self.handler = handler

    def call_later(self, delay: float, callback: Any) -> None:
        callback()  # no loop here: what is due later runs now

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.defaults.append(context)


def accept_failure(sock: socket.socket, code: int = errno.EMFILE) -> dict[str, Any]:
    """The context asyncio's selector loop reports a failed accept with."""
    return {
        "message": "socket.accept() out of system resource",
        "exception": OSError(code, os.strerror(code)),
        "socket": asyncio.trsock.TransportSocket(sock),
    }


def test_refused_accepts_are_reported_once_per_interval_with_a_count() -> None:
    counter = RefusalCounter(interval=5)
    assert counter.refused(0) == 1  # the first at once
    assert [counter.refused(t / 1000) for t in range(1, 4000)] == [None] * 3999
    assert counter.refused(5) == 4000  # then one report per interval, with the count
    assert counter.refused(5.1) is None and counter.total == 4002


def test_the_accept_guard_logs_one_warning_for_a_flood_of_failed_accepts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    loop = FakeLoop()
    with socket.socket() as listening, socket.socket() as other:
        guard = AcceptGuard(loop, [listening])  # type: ignore[arg-type]
        guard.install()
        assert loop.handler is guard
        for code in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM) * 5000:
            loop.handler(loop, accept_failure(listening, code))
        records = [r for r in caplog.records if r.name == "gethy.server"]
        assert len(records) == 1 and records[0].levelno == logging.WARNING
        assert "Too many open files (EMFILE); 1 refused" in records[0].getMessage()
        assert not records[0].exc_info and not loop.defaults
        loop.now = 5.0
        loop.handler(loop, accept_failure(listening))
        assert "20000 refused since the last warning, 20001 in all" in caplog.records[-1].message
        # Anything else goes where it went before: another socket, another error.
        loop.handler(loop, accept_failure(other))
        loop.handler(loop, {"message": "Task exception was never retrieved"})
        assert len(loop.defaults) == 2
        guard.uninstall()
        assert loop.handler is None


def test_the_accept_guard_passes_on_to_the_handler_before_it() -> None:
    loop = FakeLoop()
    seen: list[dict[str, Any]] = []
    loop.handler = lambda loop, context: seen.append(context)
    previous = loop.handler
    with socket.socket() as listening:
        guard = AcceptGuard(loop, [listening])  # type: ignore[arg-type]
        guard.install()
        loop.handler(loop, {"message": "something else"})
        later = lambda loop, context: None  # noqa: E731 - installed after us
        loop.handler = later
        guard.uninstall()
        assert loop.handler is later  # not ours to take away
        guard(loop, accept_failure(listening))  # uninstalled: passed on, not swallowed
    messages = [c["message"] for c in seen]
    assert messages == ["something else", "socket.accept() out of system resource"]
    loop.handler = guard
    guard.uninstall()
    assert loop.handler is previous


def test_memory_is_trimmed_after_a_big_connection_not_too_often() -> None:
    from gethy.guards.memory import TRIM_AFTER_BYTES, TRIM_INTERVAL, MemoryReturn

    calls: list[int] = []
    memory = MemoryReturn(trim=lambda pad: calls.append(pad) or 1)
    memory.connection_closed(TRIM_AFTER_BYTES - 1)  # a small one: nothing to give back
    assert not memory.trim_if_due(10.0) and calls == []
    memory.connection_closed(TRIM_AFTER_BYTES)
    assert memory.trim_if_due(10.0) and calls == [0]
    memory.connection_closed(5 * TRIM_AFTER_BYTES)
    assert not memory.trim_if_due(10.0 + TRIM_INTERVAL / 2)  # too soon: still due
    assert memory.due and memory.trim_if_due(10.0 + 2 * TRIM_INTERVAL) and calls == [0, 0]


def test_memory_trim_is_a_no_op_without_glibc() -> None:
    from gethy.guards.memory import MemoryReturn

    memory = MemoryReturn(trim=None)
    memory._trim = None  # as on a system without glibc
    memory.connection_closed(10**9)
    assert not memory.trim_if_due(0.0)


def test_a_late_accept_retry_on_a_closed_socket_is_swallowed_not_a_traceback() -> None:
    # asyncio retries a failed accept a second later, even after the server closed its
    # socket: the retry then fails with "Invalid file descriptor: -1".
    class Loop:
        def _start_serving(self) -> None: ...

    class Handle:
        _callback = Loop()._start_serving

    loop = asyncio.new_event_loop()
    seen: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        guard = AcceptGuard(loop, [])
        guard.install()
        late = {"handle": Handle(), "exception": ValueError("Invalid file descriptor: -1")}
        guard(loop, late)
        assert seen == [late]  # no refusal seen yet: not ours to hide
        guard.refusals.refused(0.0)
        guard(loop, late)
        assert seen == [late]  # after refusals: swallowed
        other = {"message": "boom", "exception": RuntimeError("boom")}
        guard(loop, other)
        assert seen == [late, other]
    finally:
        loop.close()
