"""Notebook 05's checks (gethy.exercises.ch05): the reference passes, typical mistakes fail."""

from __future__ import annotations

import pytest

from gethy.exercises import CheckFailed, ch05
from gethy.flowcontrol import (
    BdpEstimator,
    BdpPolicy,
    EveryFrame,
    H2Default,
    Threshold,
    WindowPolicy,
    WindowUpdate,
)


class Third(Threshold):
    def __init__(self) -> None:
        super().__init__(ch05.BUDGET, 1 / 3)


def test_the_reference_classes_pass_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    ch05.check_every_frame(EveryFrame)
    ch05.hidden_every_frame(EveryFrame)
    ch05.check_window_policy(Third)
    ch05.hidden_window_policy(Third)
    ch05.check_bdp_estimator(BdpEstimator)
    ch05.hidden_bdp_estimator(BdpEstimator)
    ch05.check_bdp_policy(BdpPolicy)
    ch05.hidden_bdp_policy(BdpPolicy)
    assert capsys.readouterr().out.count("PASS  Exercise") == 4


class ConnectionOnly(WindowPolicy):
    def data_received(self, stream_id: int, length: int, now: float) -> list:
        return [WindowUpdate(0, length)] if length else []


class ZeroToo(EveryFrame):
    def data_received(self, stream_id: int, length: int, now: float) -> list:
        return [WindowUpdate(0, length), WindowUpdate(stream_id, length)]


class Greedy(Threshold):
    """Gives back twice what arrived: windows beyond the budget."""

    def __init__(self) -> None:
        super().__init__(ch05.BUDGET, 0.3)

    def data_received(self, stream_id: int, length: int, now: float) -> list:
        return [
            WindowUpdate(u.stream_id, 2 * u.increment)
            for u in super().data_received(stream_id, length, now)
        ]


@pytest.mark.parametrize(
    ("check", "cls", "said"),
    [
        (ch05.check_every_frame, ConnectionOnly, "the actions"),
        (ch05.hidden_every_frame, ZeroToo, "an empty DATA frame"),
        (ch05.check_window_policy, lambda: H2Default(ch05.BUDGET), "needed at least 94%"),
        (ch05.check_window_policy, lambda: EveryFrame(ch05.BUDGET), "at most 100 frames"),
        (ch05.check_window_policy, lambda: EveryFrame(1 << 20), "the budget is 196,608"),
        (ch05.check_window_policy, Greedy, "over the budget"),
        (ch05.check_window_policy, lambda: WindowPolicy(ch05.BUDGET), "windows stayed shut"),
        (ch05.check_bdp_policy, lambda: Threshold(65_535, 0.5), "at least the BDP"),
    ],
)
def test_typical_mistakes_fail_in_words(check, cls, said: str) -> None:
    cls.__name__ = getattr(cls, "__name__", "Policy")
    with pytest.raises(CheckFailed, match=said):
        check(cls)


class NoBandwidthTest(BdpEstimator):
    def ping_acked(self, now: float, window: int) -> int | None:
        self.best_bandwidth = 0.0  # forgets the best bandwidth: grows on any full sample
        return super().ping_acked(now, window)


def test_an_estimator_without_the_bandwidth_test_fails_the_hidden_check() -> None:
    ch05.check_bdp_estimator(NoBandwidthTest)  # the visible cases cannot tell
    with pytest.raises(CheckFailed, match="the round trip grew"):
        ch05.hidden_bdp_estimator(NoBandwidthTest)
