"""A teacher's path with nbgrader (TEACHING.md): the shared machinery of the grading tests.

Not a test file: `test_grading.py` (chapters 00-04) and `test_grading_later.py`
(05-10) each build one course directory with it, so pytest-xdist grades the two
halves of the course on two workers at once. In each: one assignment per
chapter; submissions made from the released student copies by editing their
solution cells, as a learner would (a correct one, a blank one, and one per
typical bug); `nbgrader autograde`; `nbgrader export` to CSV.
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
COURSE_ID = "gethy"
CONFIG = f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'

# A typical bug: (chapter, the graded check that catches it or a tuple of the checks that do,
# (the grade_id or text of the cell to edit, [(find, replace), ...])).
Bug = tuple[str, str | tuple[str, ...], tuple[str, list[tuple[str, str]]]]


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


def graded_course(
    tmp_path_factory: pytest.TempPathFactory,
    chapters: list[str],
    bugs: dict[str, Bug],
    aside: str,
    *,
    correct: bool = True,
) -> Path:
    """The course directory, graded; nbgrader runs `alembic` from PATH, as in a venv.

    Without `correct`, no correct submissions are graded: strict nbval already runs the
    solved notebooks, and their check cells must pass there.
    """
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own use of SQLAlchemy
        patch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
        root = tmp_path_factory.mktemp("course")
        return grade_a_class(root, chapters, bugs, aside, correct=correct)


def grade_a_class(
    root: Path, chapters: list[str], bugs: dict[str, Bug], aside: str, *, correct: bool = True
) -> Path:
    """Release the chapters, collect the submissions, autograde them, export the grades."""
    (root / "nbgrader_config.py").write_text(CONFIG)
    config = Config()
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.root = str(root)
    config.Exchange.root = str(root / "exchange")  # unused here: no JupyterHub
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for chapter in chapters:
        (root / "source" / chapter).mkdir(parents=True)
        (root / "source" / chapter / f"{chapter}.ipynb").write_bytes(
            (NOTEBOOKS / f"{chapter}.ipynb").read_bytes()
        )
        result = api.generate_assignment(chapter)
        assert result["success"], result.get("error")
    # Collect: what `nbgrader collect` (or zip_collect) puts in submitted/STUDENT/ASSIGNMENT/.
    wanted = {("correct", c): None for c in chapters if correct}
    wanted |= {("blank", c): "blank" for c in chapters}
    wanted |= {(name, chapter): edit for name, (chapter, _, edit) in bugs.items()}
    for (student, chapter), edit in wanted.items():
        released = root / "release" / chapter / f"{chapter}.ipynb"
        folder = root / "submitted" / student / chapter
        folder.mkdir(parents=True)
        text = released.read_text() if edit == "blank" else submission(chapter, released, edit)
        (folder / f"{chapter}.ipynb").write_text(text)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in sorted({student for student, _ in wanted}):  # `nbgrader db student add`
            gradebook.update_or_create_student(student)
    # The `aside` chapter is graded by the command line while this process grades the
    # others, all into the one gradebook.
    nbgrader = [sys.executable, "-m", "nbgrader"]
    longest = subprocess.Popen(
        [*nbgrader, "autograde", aside],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for chapter in chapters:
        if chapter != aside:
            result = api.autograde(chapter, "*")
            assert result["success"], result.get("error")
    log, _ = longest.communicate(timeout=300)
    assert longest.returncode == 0, log
    subprocess.run([*nbgrader, "export", "--to", "grades.csv"], cwd=root, check=True)
    return root


def exported(course: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with (course / "grades.csv").open(newline="") as grades:
        rows = list(csv.DictReader(grades))
    return {
        (r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"])) for r in rows
    }


def release_is_the_committed_student_copy(course: Path, chapters: list[str]) -> None:
    for chapter in chapters:
        released = course / "release" / chapter / f"{chapter}.ipynb"
        assert released.read_text() == (NOTEBOOKS / "student" / f"{chapter}.ipynb").read_text()


def correct_scores_full_marks_and_blank_zero(course: Path, chapters: list[str]) -> float:
    """Asserts both (full marks only where correct submissions were graded); returns the
    chapters' total points."""
    grades = exported(course)
    for chapter in chapters:
        score, max_score = grades["blank", chapter]
        assert max_score > 0 and score == 0.0, chapter
        if ("correct", chapter) in grades:
            assert grades["correct", chapter] == (max_score, max_score), chapter
    return sum(grades["blank", c][1] for c in chapters)


def failing_cells(notebook: nbformat.NotebookNode) -> dict[int, list[str]]:
    """Code cell index -> the names of the errors it showed when it ran."""
    return {
        i: [o.ename for o in cell.outputs if o.output_type == "error"]
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)
    }


def blank_fails_every_graded_cell_and_no_given_one(course: Path, chapter: str) -> None:
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


def bug_loses_exactly_its_points(course: Path, bug: str, bugs: dict[str, Bug]) -> None:
    chapter, checks, _ = bugs[bug]
    checks = (checks,) if isinstance(checks, str) else checks
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(chapter, chapter, bug)
        lost = {g.name: g.max_score - g.score for g in notebook.grades if g.score < g.max_score}
        points = {c: gradebook.find_grade_cell(c, chapter, chapter).max_score for c in checks}
    assert lost == points, f"{bug}: points lost per check"
    score, max_score = exported(course)[bug, chapter]
    assert score == max_score - sum(points.values())
