"""Running behaviour checks and reporting PASS or FAIL, in words or as a table.

Not built in a notebook: the notebooks call `run_checks` after each piece the
learner writes (03, 04), and notebook 09 shows how a check is made. The checks
themselves are in `gethy.checks`.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Factory = Callable[..., Any]


@dataclass(frozen=True)
class Check:
    """One behaviour: a name, the part of the protocol it tests, and the test."""

    name: str
    part: str  # "receive", "send" or "errors"
    description: str
    run: Callable[..., None]  # run(factory) for protocol checks


CHECKS: list[Check] = []


def check(part: str, description: str) -> Callable[[Callable[[Factory], None]], Callable]:
    """Register the decorated function as a check of `part`, under its own name.

    Registering a name again replaces the earlier check in its place: re-running
    a notebook cell that defines a check (notebook 09) must not run it twice.
    """

    def register(fn: Callable[[Factory], None]) -> Callable[[Factory], None]:
        new = Check(fn.__name__, part, description, fn)
        for i, item in enumerate(CHECKS):
            if item.name == new.name:
                CHECKS[i] = new
                break
        else:
            CHECKS.append(new)
        return fn

    return register


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    message: str


class CheckReport:
    """The results of `run_checks`: prints as text, shows as a table in Jupyter."""

    def __init__(self, results: list[CheckResult]) -> None:
        self.results = results

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __str__(self) -> str:
        width = max((len(r.check.name) for r in self.results), default=0)
        lines = [
            f"{'PASS' if r.passed else 'FAIL'}  {r.check.name:<{width}}  {r.check.description}"
            + ("" if r.passed else f"\n      {r.message}")
            for r in self.results
        ]
        total = sum(r.passed for r in self.results)
        lines.append(f"{total} of {len(self.results)} checks pass")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
                "PASS" if r.passed else "<b>FAIL</b>",  # words: glyphs need an emoji font
                r.check.name,
                html.escape(r.check.description),
                "" if r.passed else html.escape(r.message),
            )
            for r in self.results
        )
        total = sum(r.passed for r in self.results)
        return (
            "<table><tr><th>result</th><th>check</th><th>behaviour</th><th>why it failed</th></tr>"
            f"{rows}</table><p>{total} of {len(self.results)} checks pass</p>"
        )


def exception_name(exc: BaseException) -> str:
    """The exception's class name, with its module where the name alone says little.

    `ValueError`, `ProtocolError`, `SendError`; but `struct.error`, whose bare name
    `error` would leave a learner guessing.
    """
    kind = type(exc)
    if kind.__module__ == "builtins" or not kind.__name__.islower():
        return kind.__name__
    return f"{kind.__module__}.{kind.__name__}"


def run_checks(
    factory: Factory | None = None,
    parts: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
    *,
    checks: Iterable[Check] | None = None,
) -> CheckReport:
    """Run checks and report PASS or why not; never raises.

    By default: gethy's protocol checks of the given parts (or names), each
    called with `factory`. Pass your own `checks` to report on anything else,
    for example checks of plain functions: then each `run` is called with no
    argument when `factory` is None.
    """
    parts = set(parts) if parts is not None else None
    names = set(names) if names is not None else None
    results = []
    for item in CHECKS if checks is None else checks:
        if (parts is not None and item.part not in parts) or (
            names is not None and item.name not in names
        ):
            continue
        try:
            item.run() if factory is None else item.run(factory)
        except Exception as exc:  # a failing learner class may raise anything
            where = traceback.extract_tb(exc.__traceback__)[-1]
            if isinstance(exc, NotImplementedError):
                message = f"not written yet: {where.name} raised NotImplementedError"
            else:
                message = f"{exception_name(exc)}: {exc} (line {where.lineno} of {where.name})"
            results.append(CheckResult(item, False, message))
        else:
            results.append(CheckResult(item, True, ""))
    return CheckReport(results)
