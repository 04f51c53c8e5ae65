"""Notebook 07's checks (`gethy.exercises.ch07`) pass the solved adapter and catch typical bugs.

Each bug is one edit of a solution cell of the solved notebook, the kind a
learner makes; the check of that exercise (visible or hidden part) must fail
with a message that names the situation, and the other exercises' checks must
still pass, so a bug costs exactly its own exercise's points.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from gethy.exercises import CheckFailed, ch07

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07-asyncio-server.ipynb"

# exercise: (the class its check takes, its visible check, its hidden check)
EXERCISES: dict[str, tuple[str, Callable[..., Any], Callable[..., Any]]] = {
    "7.1": ("MyConnection", ch07.check_bytes, ch07.hidden_bytes),
    "7.2": ("AppConnection", ch07.check_application, ch07.hidden_application),
    "7.3": ("BackpressureConnection", ch07.check_backpressure, ch07.hidden_backpressure),
    "7.4": ("MyServerConnection", ch07.check_connection_lost, ch07.hidden_connection_lost),
}

# bug: (the exercise that must fail, (find, replace) in the solved code, words of the failure)
BUGS = {
    "flush-per-event": (
        "7.1",
        (
            "                self._request_received(event.stream)\n",
            "                self._request_received(event.stream)\n                self._flush()\n",
        ),
        "transport.write calls for three GETs in one data_received",
    ),
    "protocol-error-escapes": (
        "7.1",
        ("        except h2.exceptions.ProtocolError:", "        except ValueError:"),
        "raised ProtocolError",
    ),
    "send-error-escapes": (
        "7.2",
        ("        with contextlib.suppress(SendError):", "        if True:"),
        "its RST_STREAM, in one read): raised SendError",
    ),
    "async-task-not-kept": (
        "7.2",
        ("            self.tasks[stream_id] = task\n", ""),
        "tasks of the connection while an async handler runs",
    ),
    "reading-never-paused": (
        "7.3",
        ("        self.transport.pause_reading()\n", ""),
        "reading paused by pause_writing",
    ),
    "tasks-left-running": (
        "7.4",
        ("        for task in self.tasks.values():\n            task.cancel()\n", ""),
        "cancelled by connection_lost",
    ),
}


def solved_code() -> str:
    """The imports and definitions of notebook 07 and its solution cells, as one module."""
    parts = []
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        if meta.get("solution") or not (cell.outputs or "await" in cell.source):
            parts.append(cell.source)
    return "\n\n".join(parts)


def classes(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "notebook07"}
    exec(compile(source, "<notebook 07>", "exec"), namespace)
    return namespace


async def grade(namespace: dict[str, Any]) -> dict[str, str]:
    """Each exercise's checks, visible then hidden: "pass" or the failure's message."""
    results = {}
    for exercise, (name, visible, hidden) in EXERCISES.items():
        try:
            for check in (visible, hidden):
                outcome = check(namespace[name])
                if asyncio.iscoroutine(outcome):
                    await outcome
            results[exercise] = "pass"
        except CheckFailed as failure:
            results[exercise] = str(failure)
    return results


def test_the_solved_adapter_passes_every_check(capsys):
    results = asyncio.run(grade(classes(solved_code())))
    assert results == dict.fromkeys(EXERCISES, "pass")
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"PASS  Exercise {exercise}" for exercise in EXERCISES]


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_bug_fails_exactly_its_exercise(bug):
    exercise, (find, replace), words = BUGS[bug]
    source = solved_code()
    assert source.count(find) == 1, f"cannot make the bug {bug}: {find!r}"
    results = asyncio.run(grade(classes(source.replace(find, replace))))
    assert words in results[exercise], results[exercise]
    others = {e: r for e, r in results.items() if e != exercise}
    assert others == dict.fromkeys(others, "pass")


def test_a_blank_adapter_fails_every_check_saying_not_written_yet():
    source = solved_code()
    blank = []
    inside = False
    for line in source.split("\n"):
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
            blank.append(line.replace("### BEGIN SOLUTION", "raise NotImplementedError()"))
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            blank.append(line)
    results = asyncio.run(grade(classes("\n".join(blank))))
    assert all("not written yet" in message for message in results.values()), results
