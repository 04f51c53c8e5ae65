"""One typical bug costs one exercise: notebooks 04, 05 and 06 run in-process, one bug at a time.

nbgrader grades the typical bugs of TEACHING.md's table that the issues name
(test_grading.py). The others, each a mistake a learner makes in one piece of
their class, are checked here without a kernel, which is what makes them cheap:
the solved notebook's code cells run in order in one namespace, with one
solution cell edited, and every check cell (its hidden tests included) either
finishes or raises. Only the check cells of the edited exercise may raise.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import matplotlib
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

# bug: (chapter, the one check cell that must fail, (solution cell, [(find, replace), ...]))
BUGS = {
    "connection-window-ignored": (
        "04-send",
        "ex4_2_outbound_check",
        (
            "ex4_2_outbound",
            [
                (
                    "n = min(conn.local_flow_control_window(stream_id),",
                    "n = min(conn.streams[stream_id].outbound_flow_control_window,",
                )
            ],
        ),
    ),
    "served-stream-not-moved-back": (
        "04-send",
        "ex4_3_fair_outbound_check",  # its hidden test: fair across flushes too
        (
            "ex4_3_fair_outbound",
            [("self.queues[stream_id] = self.queues.pop(stream_id)", "pass")],
        ),
    ),
    "reset-event-only-while-arriving": (
        "04-send",
        "ex4_4_reset_aware_check",
        (
            "ex4_4_reset_aware",
            [
                (
                    "held = stream_id in self.request_buffer or stream_id in self.outbound.queues",
                    "held = stream_id in self.request_buffer",
                )
            ],
        ),
    ),
    "expect-never-raises": (
        "04-send",
        "ex4_5_checked_check",
        (
            "ex4_5_checked",
            [("        actual = self.response_state.get(stream_id)\n", "        return\n")],
        ),
    ),
    "trailers-overtake-the-body": (
        "04-send",
        "ex4_6_trailers_check",
        (
            "ex4_6_trailers",
            [
                (
                    "self.outbound.push(stream_id, end_stream=True, trailers=list(trailers))",
                    "self.http2_connection.send_headers(stream_id, trailers, end_stream=True)",
                )
            ],
        ),
    ),
    "window-grown-by-the-new-size": (
        "05-flow-control-lab",
        "ex5_4_bdp_policy_check",
        ("ex5_4_bdp_policy", [("WindowUpdate(sid, grow)", "WindowUpdate(sid, new_window)")]),
    ),
    "priority-none-passed-on": (
        "06-multiplexing",
        "ex6_3_plugged_check",
        (
            "ex6_3_plugged",
            [
                (
                    "        if priority is not None:\n            self.outbound.prioritize(",
                    "        if True:\n            self.outbound.prioritize(",
                )
            ],
        ),
    ),
    "last-duplicate-ignored": (
        "06-multiplexing",
        "ex6_1_request_priority_check",
        (
            "ex6_1_request_priority",
            [
                (
                    'members[key] = value if equals else "?1"',
                    'members.setdefault(key, value if equals else "?1")',
                )
            ],
        ),
    ),
    "least-urgent-first": (
        "06-multiplexing",
        "ex6_2_turn_order_check",  # only: 6.3's check runs on gethy's PriorityOutbound
        ("ex6_2_turn_order", [("best = min(", "best = max(")]),
    ),
    "priorities-never-forgotten": (
        "06-multiplexing",
        "ex6_3_plugged_check",
        ("ex6_3_plugged", [("        self.outbound.priorities.pop(stream_id, None)\n", "")]),
    ),
}


def meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def run_in_process(chapter: str, bug: tuple[str, list[tuple[str, str]]] | None) -> set[str]:
    """The grade_ids of the check cells that raise, the notebook run with `bug` made."""
    notebook = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4)
    namespace: dict = {"__name__": "__main__", "display": lambda *args, **kwargs: None}
    failed = set()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(
                line for line in cell.source.split("\n") if line.strip() not in MARKERS
            )
            if bug is not None and meta(cell).get("grade_id") == bug[0]:
                for find, replace in bug[1]:
                    assert source.count(find) == 1, f"cannot make the bug: {find!r}"
                    source = source.replace(find, replace)
            try:
                exec(compile(source, f"<{chapter}>", "exec"), namespace)
            except Exception:
                if meta(cell).get("grade"):
                    failed.add(meta(cell)["grade_id"])
            finally:
                plt.close("all")
    return failed


def test_the_solved_notebooks_pass_every_check_in_process():
    for chapter in sorted({chapter for chapter, _, _ in BUGS.values()}):
        assert run_in_process(chapter, None) == set(), chapter


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_bug_fails_exactly_the_check_of_its_exercise(bug: str):
    chapter, check, edit = BUGS[bug]
    assert run_in_process(chapter, edit) == {check}
