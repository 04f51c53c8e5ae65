"""The checks behind the notebooks' exercise cells, one module per chapter.

Not built in a notebook: the graded cells call these, so a check cell stays a
few lines a learner can read (``ch04.check_chunk_sizes(chunk_sizes)``) while
the cases, and the words a failure is explained in, live here.

Every check raises `CheckFailed` with a message that says what was tried, what
was expected and what happened; nbgrader scores a graded cell that raises as
zero and one that finishes as full marks. A chapter module's ``hidden_*``
functions hold the cases its hidden tests run (``### BEGIN HIDDEN TESTS``): the
student copy does not show them, the autograder runs them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from gethy.checkrun import exception_name


class CheckFailed(AssertionError):
    """An exercise check failed; the message says what was tried, expected and got."""


def expect(what: str, expected: object, got: object) -> None:
    """Fail with `what`, the expected value and the value got, unless they are equal."""
    if got != expected:
        raise CheckFailed(f"{what}:\n  expected {expected!r}\n  got      {got!r}")


def attempt(what: str, action: Callable[[], Any]) -> Any:
    """Run the learner's `action`; an exception it raises becomes a `CheckFailed` saying `what`.

    A bare traceback from inside the learner's code (or from h2, called by it)
    names an exception but not the situation; this names both.
    """
    try:
        return action()
    except CheckFailed:
        raise
    except NotImplementedError as exc:
        method = traceback.extract_tb(exc.__traceback__)[-1].name
        raise CheckFailed(
            f"{what}: not written yet ({method} raised NotImplementedError)"
        ) from None
    except Exception as exc:  # any error of the learner's code is the finding
        raise CheckFailed(f"{what}: raised {exception_name(exc)}: {exc}") from exc


def passed(exercise: str) -> None:
    """Print the line a passing check cell ends with."""
    print(f"PASS  Exercise {exercise}")
