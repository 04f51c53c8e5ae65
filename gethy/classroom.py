"""Student copies of the course notebooks, made by nbgrader's own machinery.

Not built in a notebook: the teacher's tool for the exercise copies.

The committed notebooks are in nbgrader's format: each exercise is a solution
cell (nbgrader metadata ``solution: true``) holding the answer between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, followed by an autograded test
cell (``grade: true``, with points) that may hold ``### BEGIN HIDDEN TESTS``;
the given cells are locked. A teacher hands out the copies this writes::

    python -m gethy.classroom            # writes notebooks/student/
    python -m gethy.classroom --check    # exit 1 if notebooks/student/ is out of date

Each copy goes through the preprocessors of ``nbgrader generate_assignment``,
in its order: solutions become nbgrader's placeholder (``raise
NotImplementedError()``), hidden tests and outputs are cleared, cells are
locked and checksummed. Only ``SaveCells`` is left out: it records the cells in
a gradebook, which a course directory has (TEACHING.md) and this command does
not need. The copies are generated, never edited by hand; a test keeps the
committed ones current.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
)

STUDENT_DIR = "student"

# `nbgrader generate_assignment`'s preprocessors in its order, less SaveCells (the
# gradebook), which came after the first ComputeChecksums. A test compares this with
# nbgrader's own list.
STEPS = (
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ClearSolutions,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
)


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy of a notebook, as nbgrader releases it; `notebook` is left as it was."""
    copy = nbformat.from_dict(notebook)
    resources: dict = {}
    for step in STEPS:
        copy, resources = step().preprocess(copy, resources)
    return copy


def dumps(notebook: nbformat.NotebookNode) -> str:
    """Serialise as Jupyter and nbgrader do (indent 1, sorted keys, a final newline)."""
    return nbformat.writes(notebook) + "\n"


def course_notebooks(notebooks_dir: Path) -> list[Path]:
    """The notebooks a class works through: the contents page and the numbered chapters."""
    return sorted(
        p for p in notebooks_dir.glob("*.ipynb") if p.name[:2].isdigit() or p.name == "index.ipynb"
    )


def render(notebooks_dir: Path) -> dict[str, str]:
    """File name -> text of every student copy for the notebooks in `notebooks_dir`."""
    copies = {}
    for path in course_notebooks(notebooks_dir):
        notebook = nbformat.read(path, as_version=4)
        copies[path.name] = dumps(student_notebook(notebook))
    return copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gethy.classroom",
        description="Write student copies of the notebooks with nbgrader's preprocessors: "
        "solutions replaced by nbgrader's placeholder, hidden tests and outputs cleared, "
        "given cells locked.",
    )
    parser.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), help="default: notebooks"
    )
    parser.add_argument("--dest", type=Path, default=None, help="default: <notebooks>/student")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the copies are out of date"
    )
    args = parser.parse_args(argv)
    dest = args.dest or args.notebooks / STUDENT_DIR
    copies = render(args.notebooks)
    if not copies:
        parser.error(f"no notebooks found in {args.notebooks}")
    stale = sorted(
        name
        for name, text in copies.items()
        if not (dest / name).exists() or (dest / name).read_text(encoding="utf-8") != text
    )
    extra = sorted(p.name for p in dest.glob("*.ipynb") if p.name not in copies)
    if args.check:
        for name in stale:
            print(f"out of date: {dest / name}")
        for name in extra:
            print(f"no longer generated: {dest / name}")
        return 1 if stale or extra else 0
    dest.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (dest / name).write_text(copies[name], encoding="utf-8")
    for name in extra:
        (dest / name).unlink()
    print(f"{len(copies)} student notebooks in {dest} ({len(stale)} written, {len(extra)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
