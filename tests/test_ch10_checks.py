"""Notebook 10's checks (`gethy.exercises.ch10`) pass the solved code and catch typical bugs.

The solved code is `gethy.notebook10` (kept equal to the notebook's cells by
tests/test_ch10_capstone.py). Each bug is one edit of it, the kind a learner
makes; the check of that exercise (visible or hidden part) must fail with a
message that names the situation, and a blank exercise must say "not written
yet".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gethy.notebook10
from gethy.exercises import CheckFailed, ch10

SOURCE = Path(gethy.notebook10.__file__).read_text(encoding="utf-8")

# exercise: (the class its check takes, its visible check, its hidden check)
EXERCISES: dict[str, tuple[str, Callable[..., Any], Callable[..., Any]]] = {
    "10.1": ("StreamingConnection", ch10.check_streaming, ch10.hidden_streaming),
    "10.2": ("Files", ch10.check_byte_range, ch10.hidden_byte_range),
    "10.3": ("RangeFiles", ch10.check_range_answers, ch10.hidden_range_answers),
    "10.4": ("CoalescingConnection", ch10.check_coalescing, ch10.hidden_coalescing),
}

#: Exercises whose classes build on another's: a bug there fails them too.
BUILDS_ON = {"10.3": "10.2", "10.4": "10.1"}

# bug: (the exercise that must fail, (find, replace) in the solved code, words of the failure)
BUGS = {
    "body-gathered-first": (
        "10.1",
        (
            "            async for chunk in response.body:\n"
            "                self.protocol.send_data(stream_id, chunk)\n",
            "            whole = b''.join([chunk async for chunk in response.body])\n"
            "            for chunk in [whole]:\n"
            "                self.protocol.send_data(stream_id, chunk)\n",
        ),
        "written to the transport before the next one was produced",
    ),
    "no-flush-per-chunk": (
        "10.1",
        ("                self._flush_soon()  # this event leaves", "                pass  #"),
        "written to the transport before the next one was produced",
    ),
    "no-end-stream": (
        "10.1",
        ("                self.protocol.end_stream(stream_id)\n", "                pass\n"),
        "got 35 bytes, no end",
    ),
    "send-error-escapes": (
        "10.1",
        ("        with contextlib.suppress(SendError):  # reset meanwhile", "        if True:  #"),
        "raised SendError",
    ),
    "suffix-not-from-the-end": (
        "10.2",
        (
            "(max(0, size - int(last)), size - 1)",
            "(0, int(last))",
        ),
        "byte_range('bytes=-100', size=1000)",
    ),
    "last-not-cut": (
        "10.2",
        ("min(int(last), size - 1)", "int(last)"),
        "byte_range('bytes=900-5000', size=1000)",
    ),
    "unit-case-sensitive": (
        "10.2",
        ("unit.strip().lower() != ", "unit.strip() != "),
        "byte_range('Bytes=0-0', size=1000)",
    ),
    "no-content-range": (
        "10.3",
        (
            '        fields = [*self.fields(), ("content-range", f"bytes {first}-{last}/{size}")]',
            "        fields = self.fields()",
        ),
        "the content-range header",
    ),
    "range-on-post": (
        "10.3",
        (' or request.method != "GET"', ""),
        "POST with a Range header",
    ),
    "flush-at-once": (
        "10.4",
        (
            "            asyncio.get_running_loop().call_soon(self._scheduled_flush)",
            "            self._scheduled_flush()",
        ),
        "writes made by five _flush_soon() calls, before the loop runs",
    ),
    "flag-never-cleared": (
        "10.4",
        ("        self.flush_scheduled = False\n        self._flush()", "        self._flush()"),
        "it must write again",
    ),
}


def _classes(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "solved_or_buggy"}
    exec(compile(source, "notebook10", "exec"), namespace)  # noqa: S102
    return namespace


def _run(check: Callable[..., Any], cls: type) -> None:
    result = check(cls)
    if asyncio.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_the_solved_code_passes_every_check(exercise: str, capsys: pytest.CaptureFixture) -> None:
    name, check, hidden = EXERCISES[exercise]
    cls = _classes(SOURCE)[name]
    _run(check, cls)
    _run(hidden, cls)
    assert f"PASS  Exercise {exercise}" in capsys.readouterr().out


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_typical_bug_fails_its_exercise_only(bug: str) -> None:
    exercise, (find, replace), words = BUGS[bug]
    assert SOURCE.count(find) == 1, f"the bug's text is not in the solved code once: {find!r}"
    namespace = _classes(SOURCE.replace(find, replace))
    name, check, hidden = EXERCISES[exercise]
    with pytest.raises(CheckFailed) as failure:
        _run(check, namespace[name])
        _run(hidden, namespace[name])
    assert words in str(failure.value)
    for other, (other_name, other_check, _) in EXERCISES.items():
        if other != exercise and BUILDS_ON.get(other) != exercise:
            _run(other_check, namespace[other_name])


def _blank(cls: type, method: str) -> type:
    def not_written(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError()

    if method == "_stream_body":

        async def not_written_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError()

        return type(cls.__name__, (cls,), {method: not_written_async})
    return type(cls.__name__, (cls,), {method: not_written})


@pytest.mark.parametrize(
    ("exercise", "method"),
    [("10.1", "_stream_body"), ("10.2", "byte_range"), ("10.3", "answer"), ("10.4", "_flush_soon")],
)
def test_a_blank_exercise_says_not_written_yet(exercise: str, method: str) -> None:
    name, check, _ = EXERCISES[exercise]
    with pytest.raises(CheckFailed, match="not written yet"):
        _run(check, _blank(getattr(gethy.notebook10, name), method))
