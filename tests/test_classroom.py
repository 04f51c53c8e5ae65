"""Student copies: generated from the notebooks, current, and failing only where they should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gethy.classroom import (
    PLACEHOLDER,
    SolutionMarkerError,
    course_notebooks,
    main,
    render,
    strip_solutions,
    student_notebook,
)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
STUDENT = NOTEBOOKS / "student"


def test_strip_solutions_keeps_indentation_and_the_code_around():
    source = (
        "def parse(data):\n"
        '    """Parse it."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return data[:3]\n"
        "    ### END SOLUTION\n"
        "\n"
        "x = 1"
    )
    assert strip_solutions(source) == (
        f'def parse(data):\n    """Parse it."""\n    # your code here\n    {PLACEHOLDER}\n\nx = 1'
    )


def test_strip_solutions_handles_several_blocks_and_rejects_broken_markers():
    block = "### BEGIN SOLUTION\n{} = 1\n### END SOLUTION"
    two = "\n".join([block.format("a"), "b = 2", block.format("c")])
    assert strip_solutions(two).count(PLACEHOLDER) == 2 and "b = 2" in strip_solutions(two)
    for broken in ["### BEGIN SOLUTION\na = 1", "a = 1\n### END SOLUTION"]:
        with pytest.raises(SolutionMarkerError):
            strip_solutions(broken)


def test_student_notebook_clears_outputs_and_keeps_markdown():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "**Exercise** do it"},
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {"execution": {"t": 1}},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}],
                "source": "### BEGIN SOLUTION\nprint(2)\n### END SOLUTION",
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    notebook["cells"].append(
        {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [], "source": "1"}
    )
    notebook["cells"].append(
        {"cell_type": "code", "execution_count": 5, "metadata": {}, "outputs": [], "source": "2"}
    )
    copy = student_notebook(notebook)
    code = copy["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert PLACEHOLDER in code["source"]
    # Run All goes on past the unsolved exercise and its check, and only those.
    assert [c["metadata"].get("tags") for c in copy["cells"][1:]] == [
        ["raises-exception"],
        ["raises-exception"],
        None,
    ]
    assert copy["cells"][0] == notebook["cells"][0]
    assert notebook["cells"][1]["outputs"], "the original is left untouched"


def test_command_writes_then_reports_current(tmp_path, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (src / "01-x.ipynb").write_text(json.dumps(nb))
    (src / "scratch.ipynb").write_text(json.dumps(nb))  # not a course notebook
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


def exercise_cells(notebook: dict) -> tuple[set[int], set[int]]:
    """(solution cells, check cells): a check is the code cell right after a solution."""
    code = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]
    solutions = {i for i in code if PLACEHOLDER in "".join(notebook["cells"][i]["source"])}
    checks = {code[code.index(i) + 1] for i in solutions if code.index(i) + 1 < len(code)}
    return solutions, checks


STUDENT_COPIES = [p for p in course_notebooks(STUDENT)] if STUDENT.exists() else []


@pytest.mark.parametrize("path", STUDENT_COPIES, ids=[p.name for p in STUDENT_COPIES])
def test_student_copy_fails_in_its_checks_and_nowhere_else(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    solutions, checks = exercise_cells(notebook)
    if not solutions:
        pytest.skip("no exercises in this notebook")
    client = nbclient.NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    failed = {
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)
    }
    assert checks <= failed, f"checks that pass without a solution: {sorted(checks - failed)}"
    unexpected = failed - checks - solutions
    details = {
        i: [o.ename for o in notebook.cells[i].outputs if o.output_type == "error"]
        for i in unexpected
    }
    assert not unexpected, f"cells that fail but are not exercises: {details}"
