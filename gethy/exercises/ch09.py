"""Notebook 09's checks: the learner's *tests* are graded by the bugs they catch.

Not built in a notebook: the check cells of 09 call these. In notebook 09 the
learner writes tests, not protocol code, so a check runs the learner's test
function against the correct class (`CoreProtocol`, the finished version of
their own) and against seeded bugs (`gethy.mutants`). This is mutation-style
grading: full marks only if the test passes on the correct class *and* fails on
every targeted mutant. A test that fails on the correct class scores zero,
whatever it catches: it would fail on any code. A mutant the test passes on
*survived*, and the check says which bug that was, in words.

A test function takes one argument, the class (or any factory) to test, and
raises (an assertion, say) when the class misbehaves; hypothesis properties
run inside it. While grading, hypothesis does not shrink: only the verdict
counts, and the notebook stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from gethy.core import CoreProtocol
from gethy.exercises import CheckFailed, passed
from gethy.mutants import (
    AcknowledgesUnpadded,
    DropsTrailers,
    NeverAcknowledges,
    ReturnsFirstEvent,
    bug,
)

TestFunction = Callable[[Any], object]

#: While grading, hypothesis only looks for a failure; it does not shrink or explain it.
#: What a learner's @settings leaves out is fixed too: the same examples every run, no
#: deadline and no health check, so a slow machine never fails a correct test.
GRADING_PROFILE = "gethy-grading"
settings.register_profile(
    GRADING_PROFILE,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,  # as on a learner's machine, also where CI=true
)


class YourProtocol(CoreProtocol):
    """A correct class under another name: a test must not depend on the class's name."""


@dataclass(frozen=True)
class Verdict:
    """What the learner's test did against one class."""

    cls: type
    failure: str | None  # None: the test passed on this class

    @property
    def caught(self) -> bool:
        return self.failure is not None


@dataclass(frozen=True)
class Grade:
    """A test run against the correct class and the targeted mutants."""

    test: str
    correct: Verdict
    mutants: tuple[Verdict, ...]

    @property
    def survived(self) -> list[type]:
        return [v.cls for v in self.mutants if not v.caught]

    @property
    def score(self) -> float:
        """The share of targeted mutants caught; 0 if the test fails on correct code."""
        if self.correct.caught or not self.mutants:
            return 0.0
        return sum(v.caught for v in self.mutants) / len(self.mutants)

    @property
    def full_marks(self) -> bool:
        return self.score == 1.0

    def __str__(self) -> str:
        c = self.correct
        lines = [f"{self.test}, run against each class:"]
        name = f"{c.cls.__name__:<22}"
        if c.caught:
            lines.append(f"FAIL      {name} the correct class; your test fails on it:")
            lines.append(f"          {c.failure}")
        else:
            lines.append(f"PASS      {name} the correct class: your test passes on it")
        for v in self.mutants:
            word = "NOT RUN" if c.caught else "CAUGHT" if v.caught else "SURVIVED"
            lines.append(f"{word:<9} {v.cls.__name__:<22} {bug(v.cls)}")
            if v.caught and not c.caught:
                lines.append(f"          your test failed with: {v.failure}")
        caught = sum(v.caught for v in self.mutants)
        lines.append(f"{caught} of {len(self.mutants)} seeded bugs caught; score {self.score:.0%}")
        return "\n".join(lines)

    __repr__ = __str__


@contextmanager
def _grading_profile() -> Iterator[None]:
    before = settings.get_current_profile_name()
    settings.load_profile(GRADING_PROFILE)
    try:
        yield
    finally:
        settings.load_profile(before)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0]
    text = text if len(text) <= 110 else text[:107] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_test(test_fn: TestFunction, cls: type) -> Verdict:
    """Run the learner's test on `cls`; any exception means it failed there."""
    with _grading_profile():
        try:
            test_fn(cls)
        except NotImplementedError:
            return Verdict(cls, "NotImplementedError: the test is not written yet")
        except Exception as exc:  # whatever the test raises is its verdict
            return Verdict(cls, _first_line(exc))
    return Verdict(cls, None)


def grade_tests(
    test_fn: TestFunction, mutants: Iterable[type], correct: type = CoreProtocol
) -> Grade:
    """Run `test_fn` on the correct class and on each mutant: the grade, with reasons.

    Full marks only if the test passes on `correct` and fails on every mutant;
    a test that fails on `correct` scores zero (the mutants are then not run).
    """
    name = getattr(test_fn, "__name__", "your test")
    verdict = run_test(test_fn, correct)
    if verdict.caught:
        return Grade(name, verdict, tuple(Verdict(m, None) for m in mutants))
    return Grade(name, verdict, tuple(run_test(test_fn, m) for m in mutants))


def _require_full_marks(exercise: str, grade: Grade) -> None:
    print(grade)
    if grade.correct.caught:
        correct = grade.correct
        raise CheckFailed(
            f"Exercise {exercise}: your test fails on the correct class {correct.cls.__name__}"
            f" ({correct.failure}). A test that fails on correct code catches no bug."
        )
    if grade.survived:
        names = ", ".join(f"{m.__name__} ({bug(m).rstrip('.')})" for m in grade.survived)
        raise CheckFailed(
            f"Exercise {exercise}: your test passes on a class with a seeded bug, so it cannot"
            f" tell that bug from correct code: {names}"
        )
    passed(exercise)


def look_alike(mutant: type) -> type:
    """A correct class that looks like `mutant`: same name, module and overridden methods.

    Each method the mutant overrides is overridden here too, by one that calls
    `CoreProtocol`'s: a test that tells the classes apart by name, module or
    method names fails on this one, which is correct.
    """

    def passthrough(name: str) -> Callable:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return getattr(CoreProtocol, name)(self, *args, **kwargs)

        method.__name__, method.__qualname__ = name, f"{mutant.__qualname__}.{name}"
        method.__module__ = mutant.__module__
        return method

    names = [n for n, v in vars(mutant).items() if callable(v) and n != "__init_subclass__"]
    cls = type(mutant.__name__, (CoreProtocol,), {n: passthrough(n) for n in names})
    cls.__qualname__, cls.__module__, cls.__doc__ = (
        mutant.__qualname__,
        mutant.__module__,
        mutant.__doc__,
    )
    return cls


def _still_passes(exercise: str, test_fn: TestFunction, mutants: list[type]) -> None:
    """The test passes on correct classes that only look different, or look like the bugs."""
    for correct in [YourProtocol, *(look_alike(m) for m in mutants)]:
        verdict = run_test(test_fn, correct)
        if verdict.caught:
            raise CheckFailed(
                f"Exercise {exercise}: your test fails on a correct class named"
                f" {correct.__name__} ({verdict.failure}). It has the name, module or method"
                " names of another class, but correct code: test what the class does, not what"
                " it is called."
            )


# ------------------------------------------------------------------ Exercise 9.1


def check_upload_test(test_fn: TestFunction) -> None:
    """Exercise 9.1: an upload test catches a class that never acknowledges and one that
    drops trailers."""
    _require_full_marks("9.1", grade_tests(test_fn, [NeverAcknowledges, DropsTrailers]))


def hidden_upload_test(test_fn: TestFunction) -> None:
    _still_passes("9.1", test_fn, [NeverAcknowledges, DropsTrailers])


# ------------------------------------------------------------------ Exercise 9.2


def check_split_property(test_fn: TestFunction) -> None:
    """Exercise 9.2: the any-split property catches a class that returns too early."""
    _require_full_marks("9.2", grade_tests(test_fn, [ReturnsFirstEvent]))


def hidden_split_property(test_fn: TestFunction) -> None:
    _still_passes("9.2", test_fn, [ReturnsFirstEvent])


# ------------------------------------------------------------------ Exercise 9.3


def _registered(name: str) -> TestFunction:
    from gethy.checks import CHECKS

    for item in CHECKS:
        if item.name == name:
            return item.run
    raise CheckFailed(
        f"Exercise 9.3: no check named {name!r} is registered; decorate the function with"
        " @check(part, description) and run its cell"
    )


def check_added_check(name: str) -> None:
    """Exercise 9.3: the learner's registered check catches padding acknowledged short."""
    _require_full_marks("9.3", grade_tests(_registered(name), [AcknowledgesUnpadded]))


def hidden_added_check(name: str) -> None:
    _still_passes("9.3", _registered(name), [AcknowledgesUnpadded])
