"""A teacher's path with nbgrader (TEACHING.md): release, collect, autograde, export.

One course directory, one assignment per chapter. The submissions are made from
the released student copies by editing their solution cells, as a learner
would: a correct one, a blank one, and one per typical bug, each breaking one
exercise and so losing exactly that exercise's points.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# Every chapter with exercises. The typical bugs of 05, 07, 08, 09 and 10 are graded in their
# own fast tests (test_exercises_ch05.py, test_ch07_checks.py, test_ch08_attacks.py,
# test_ch09_mutation.py, test_ch10_checks.py); here they are released, collected and
# autograded with the others, correct and blank.
CHAPTERS = [
    "00-start-here",
    "01-frames-by-hand",
    "02-h2-event-model",
    "03-receive",
    "04-send",
    "05-flow-control-lab",
    "06-multiplexing",
    "07-asyncio-server",
    "08-errors-and-attacks",
    "09-testing-sans-io",
    "10-capstone",
]
COURSE_ID = "gethy"
CONFIG = f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'

# Each typical bug: the chapter, the graded check that catches it (or a tuple of the checks
# that do), and how a learner's answer makes it: (the grade_id or text of the cell to edit,
# [(find, replace), ...]).
BUGS = {
    "padding-as-body": (
        "03-receive",
        "ex3_1_data_bytes_per_stream_check",
        ("ex3_1_data_bytes_per_stream", [("+ len(event.data)", "+ event.flow_controlled_length")]),
    ),
    "stream-window-never-lowered": (
        "04-send",
        "ex4_1_chunk_sizes_check",
        ("ex4_1_chunk_sizes", [("        stream_window -= n\n", "")]),
    ),
    "connection-window-ignored": (
        "04-send",
        # Exercise 4.2 only: the checks of 4.3 to 4.6 run on a correct outbound buffer.
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
            [
                (
                    "                        self.queues[stream_id] = self.queues.pop(stream_id)",
                    "                        pass",
                )
            ],
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
    "over-limit-unacknowledged": (
        "03-receive",
        "ex3_3_limited_protocol_check",
        (
            "ex3_3_limited_protocol",
            [("conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)", "")],
        ),
    ),
    "negative-increment-packed": (
        "01-frames-by-hand",
        "ex1_4_window_update_check",
        (
            "ex1_4_window_update",
            [
                ("if not 1 <= increment <= 2**31 - 1:", "if increment == 0 or increment >= 2**31:"),
                ('">HBBBII"', '">HBBBIi"'),  # the increment packed as a signed number
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
    "no-server-preface": (
        "03-receive",
        "ex3_2_my_receive_check",
        ("ex3_2_my_receive", [("self.http2_connection.initiate_connection()", "pass")]),
    ),
}


def meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def answer(source: str) -> str:
    """A solved cell's source as a learner would write it: without the markers."""
    return "\n".join(
        line
        for line in source.split("\n")
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def submission(chapter: str, released: Path, bug: tuple | None) -> str:
    """The released copy of `chapter`, solved, then broken by `bug` (cell, edits)."""
    solved = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4)
    answers = {
        meta(c)["grade_id"]: answer(c.source) for c in solved.cells if meta(c).get("solution")
    }
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        if meta(cell).get("solution"):
            cell.source = answers[meta(cell)["grade_id"]]
    if bug is not None:
        target, edits = bug
        (cell,) = [
            c for c in notebook.cells if meta(c).get("grade_id") == target or target in c.source
        ]
        for find, replace in edits:
            assert cell.source.count(find) == 1, f"cannot make the bug in {target}: {find}"
            cell.source = cell.source.replace(find, replace)
    return nbformat.writes(notebook)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course directory, graded; nbgrader runs `alembic` from PATH, as in a venv."""
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own use of SQLAlchemy
        patch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
        return grade_a_class(tmp_path_factory.mktemp("course"))


def grade_a_class(root: Path) -> Path:
    """Release every chapter, collect the submissions, autograde them, export the grades."""
    (root / "nbgrader_config.py").write_text(CONFIG)
    config = Config()
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.root = str(root)
    config.Exchange.root = str(root / "exchange")  # unused here: no JupyterHub
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for chapter in CHAPTERS:
        (root / "source" / chapter).mkdir(parents=True)
        (root / "source" / chapter / f"{chapter}.ipynb").write_bytes(
            (NOTEBOOKS / f"{chapter}.ipynb").read_bytes()
        )
        result = api.generate_assignment(chapter)
        assert result["success"], result.get("error")
    # Collect: what `nbgrader collect` (or zip_collect) puts in submitted/STUDENT/ASSIGNMENT/.
    wanted = {("correct", c): None for c in CHAPTERS} | {("blank", c): "blank" for c in CHAPTERS}
    wanted |= {(name, chapter): edit for name, (chapter, _, edit) in BUGS.items()}
    for (student, chapter), edit in wanted.items():
        released = root / "release" / chapter / f"{chapter}.ipynb"
        folder = root / "submitted" / student / chapter
        folder.mkdir(parents=True)
        text = released.read_text() if edit == "blank" else submission(chapter, released, edit)
        (folder / f"{chapter}.ipynb").write_text(text)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in sorted({student for student, _ in wanted}):  # `nbgrader db student add`
            gradebook.update_or_create_student(student)
    # Two cores: the longest chapter is graded by the command line while this process
    # grades the others, all into the one gradebook.
    nbgrader = [sys.executable, "-m", "nbgrader"]
    longest = subprocess.Popen(
        [*nbgrader, "autograde", "03-receive"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for chapter in CHAPTERS:
        if chapter != "03-receive":
            result = api.autograde(chapter, "*")
            assert result["success"], result.get("error")
    log, _ = longest.communicate(timeout=300)
    assert longest.returncode == 0, log
    subprocess.run([*nbgrader, "export", "--to", "grades.csv"], cwd=root, check=True)
    return root


def test_release_is_the_committed_student_copy(course: Path) -> None:
    for chapter in CHAPTERS:
        released = course / "release" / chapter / f"{chapter}.ipynb"
        assert released.read_text() == (NOTEBOOKS / "student" / f"{chapter}.ipynb").read_text()


def exported(course: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with (course / "grades.csv").open(newline="") as grades:
        rows = list(csv.DictReader(grades))
    return {
        (r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"])) for r in rows
    }


def test_correct_scores_full_marks_and_blank_scores_zero(course: Path) -> None:
    grades = exported(course)
    for chapter in CHAPTERS:
        score, max_score = grades["correct", chapter]
        assert max_score > 0 and score == max_score, chapter
        assert grades["blank", chapter] == (0.0, max_score), chapter
    assert sum(grades["correct", c][0] for c in CHAPTERS) == 107  # TEACHING.md's table


def failing_cells(notebook: nbformat.NotebookNode) -> dict[int, list[str]]:
    """Code cell index -> the names of the errors it showed when it ran."""
    return {
        i: [o.ename for o in cell.outputs if o.output_type == "error"]
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)
    }


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_blank_copy_fails_every_graded_cell_and_no_given_one(course: Path, chapter: str) -> None:
    """The released copy, handed in blank, as nbgrader's autograder ran it.

    Every check cell fails. A given cell that runs the learner's class (04's later cells
    send through their Outbound) may fail only on the unfinished code, NotImplementedError,
    or on a name that an earlier such cell never got to define. Any other error is a
    broken given cell.
    """
    path = course / "autograded" / "blank" / chapter / f"{chapter}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    graded = {i for i, c in enumerate(notebook.cells) if meta(c).get("grade")}
    solutions = {i for i, c in enumerate(notebook.cells) if meta(c).get("solution")}
    failed = failing_cells(notebook)
    assert graded and not graded - set(failed), f"graded cells that pass: {graded - set(failed)}"
    given = {i: names for i, names in failed.items() if i not in graded | solutions}
    unfinished = sorted(i for i, names in given.items() if "NotImplementedError" in names)
    unexpected = {
        i: names
        for i, names in given.items()
        if names != ["NotImplementedError"]
        and not (names == ["NameError"] and unfinished and unfinished[0] < i)
    }
    assert not unexpected, f"cells that fail but are not exercises: {unexpected}"


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_bug_loses_exactly_the_points_of_its_exercise(course: Path, bug: str) -> None:
    chapter, checks, _ = BUGS[bug]
    checks = (checks,) if isinstance(checks, str) else checks
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(chapter, chapter, bug)
        lost = {g.name: g.max_score - g.score for g in notebook.grades if g.score < g.max_score}
        points = {c: gradebook.find_grade_cell(c, chapter, chapter).max_score for c in checks}
    assert lost == points, f"{bug}: points lost per check"
    score, max_score = exported(course)[bug, chapter]
    assert score == max_score - sum(points.values())
