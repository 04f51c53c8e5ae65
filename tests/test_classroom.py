"""Student copies: made by nbgrader's preprocessors, current, and failing where they should."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import SaveCells

from gethy.classroom import STEPS, course_notebooks, main, render, student_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
STUDENT = NOTEBOOKS / "student"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's default placeholder
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def code_cell(source: str, **nbgrader: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    if nbgrader:
        cell.metadata["nbgrader"] = {
            "grade": False,
            "locked": False,
            "schema_version": 3,
            "solution": False,
            "task": False,
            **nbgrader,
        }
    return cell


def test_steps_are_generate_assignments_without_the_gradebook():
    theirs = GenerateAssignment.class_traits()["preprocessors"].default()
    assert list(STEPS) == [step for step in theirs if step is not SaveCells]


def test_student_notebook_is_what_nbgrader_releases():
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "P"}}
    )
    notebook.cells = [
        nbformat.v4.new_markdown_cell("**Exercise** do it"),
        code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            solution=True,
            grade_id="f",
        ),
        code_cell(
            "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS",
            grade=True,
            locked=True,
            points=2,
            grade_id="f_check",
        ),
        code_cell("given = 1", locked=True, grade_id="given"),
    ]
    copy = student_notebook(notebook)
    solution, check, given = copy.cells[1:]
    assert solution.source == "def f(x):\n    " + STUB.replace("\n", "\n    ")
    assert check.source == "assert f(1) == 2"
    assert all(c.outputs == [] and c.execution_count is None for c in copy.cells[1:])
    assert (check.metadata.editable, given.metadata.editable) == (False, False)
    assert solution.metadata.get("editable", True), "the learner writes in a solution cell"
    assert all("checksum" in nbgrader_meta(c) for c in copy.cells[1:])
    assert copy.cells[0].source == notebook.cells[0].source
    assert notebook.cells[1].outputs, "the original is left untouched"


def test_command_writes_then_reports_current(tmp_path, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    kernelspec = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec})
    nbformat.write(nb, src / "01-x.ipynb")
    nbformat.write(nb, src / "scratch.ipynb")  # not a course notebook
    assert main(["--notebooks", str(src), "--check"]) == 1
    assert main(["--notebooks", str(src)]) == 0
    assert [p.name for p in (src / "student").iterdir()] == ["01-x.ipynb"]
    assert main(["--notebooks", str(src), "--check"]) == 0
    (src / "student" / "99-old.ipynb").write_text("{}")
    assert main(["--notebooks", str(src), "--check"]) == 1
    assert "no longer generated" in capsys.readouterr().out


def test_committed_student_copies_are_what_the_command_generates():
    copies = render(NOTEBOOKS)
    assert copies, "no course notebooks found"
    committed = {p.name: p.read_text(encoding="utf-8") for p in STUDENT.glob("*.ipynb")}
    assert sorted(committed) == sorted(copies), "run: python -m gethy.classroom"
    for name, text in copies.items():
        assert committed[name] == text, f"{name} is stale: run python -m gethy.classroom"


COURSE = course_notebooks(NOTEBOOKS)


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_each_solution_is_followed_by_a_graded_check(path):
    cells = nbformat.read(path, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    for i, cell in enumerate(code):
        meta = nbgrader_meta(cell)
        assert meta.get("solution", False) == ("BEGIN SOLUTION" in cell.source), cell.source[:80]
        if meta.get("solution"):
            check = nbgrader_meta(code[i + 1])
            assert check["grade"] and check["locked"] and check["points"] > 0, meta["grade_id"]
            assert check["grade_id"] == meta["grade_id"] + "_check"
        if meta.get("grade"):
            assert "BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden test"


# The learner's own class, theirs to change (04 even says "paste yours in"): not locked.
# (03's MyHTTP2Protocol is Exercise 3.2's solution cell; 04 imports gethy's copy of it.)
LEARNERS_OWN = {
    "04-send.ipynb": "import MyHTTP2Protocol as ReceiveProtocol",
}


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_given_cells_are_locked(path):
    cells = nbformat.read(path, as_version=4).cells
    unlocked = [c.source for c in cells if not nbgrader_meta(c)]
    own = LEARNERS_OWN.get(path.name)
    assert [own in source for source in unlocked] == ([True] if own else [])
    given = [c for c in cells if not any(nbgrader_meta(c).get(k) for k in ("solution", "grade"))]
    assert all(nbgrader_meta(c).get("locked") for c in given if nbgrader_meta(c))


STUDENT_COPIES = course_notebooks(STUDENT)


@pytest.mark.parametrize("path", STUDENT_COPIES, ids=[p.name for p in STUDENT_COPIES])
def test_student_copy_holds_no_solution_and_no_hidden_test(path):
    solved = nbformat.read(NOTEBOOKS / path.name, as_version=4)
    copy = nbformat.read(path, as_version=4)
    assert len(copy.cells) == len(solved.cells), "every cell is kept, checks included"
    for ours, theirs in zip(solved.cells, copy.cells, strict=True):
        assert not any(marker in theirs.source for marker in MARKERS), theirs.source[:80]
        if nbgrader_meta(ours).get("solution"):
            body = ours.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            assert STUB.split("\n")[1] in theirs.source
            answer = [line for line in body.split("\n")[1:-1] if line.strip()]
            assert not any(line in theirs.source.split("\n") for line in answer), theirs.source
        if nbgrader_meta(ours).get("grade"):
            visible = ours.source.split("### BEGIN HIDDEN TESTS")[0]
            assert theirs.source.startswith(visible.rstrip("\n")), "the visible checks stay"


def test_gethy_keeps_notebook_03s_class_as_the_solved_notebook_writes_it():
    """Notebook 04 starts from `gethy.notebook03`: it must be 03's solution, not a variant."""
    import ast

    import gethy.notebook03

    cells = nbformat.read(NOTEBOOKS / "03-receive.ipynb", as_version=4).cells
    (cell,) = [c for c in cells if nbgrader_meta(c).get("grade_id") == "ex3_2_my_receive"]
    solution = cell.source.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
    module = ast.parse(Path(gethy.notebook03.__file__).read_text(encoding="utf-8"))
    classes = [ast.dump(n) for n in module.body if isinstance(n, ast.ClassDef)]
    assert classes == [ast.dump(n) for n in ast.parse(solution).body]
