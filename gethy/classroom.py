"""Student copies of the course notebooks: solutions out, checks kept, outputs cleared.

Not built in a notebook: the teacher's tool for the exercise copies.

The committed notebooks carry every exercise solved, between the comment lines
``### BEGIN SOLUTION`` and ``### END SOLUTION``, each followed by a check cell
that asserts behaviour. A teacher hands out the copies this writes::

    python -m gethy.classroom            # writes notebooks/student/
    python -m gethy.classroom --check    # exit 1 if notebooks/student/ is out of date

In a copy, each solution becomes a placeholder that raises NotImplementedError,
so its check fails until the learner writes the code. The copies are generated,
never edited by hand; a test keeps the committed ones current.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = 'raise NotImplementedError("exercise: write your code here")'
STUDENT_DIR = "student"


class SolutionMarkerError(ValueError):
    """A BEGIN SOLUTION without its END, or the other way round."""


def strip_solutions(source: str) -> str:
    """Replace each marked solution with a placeholder at the same indentation."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if inside:
                raise SolutionMarkerError(f"nested {BEGIN!r}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# your code here", f"{indent}{PLACEHOLDER}"]
        elif marker.startswith(END):
            if not inside:
                raise SolutionMarkerError(f"{END!r} without {BEGIN!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{BEGIN!r} without {END!r}")
    return "\n".join(out)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def student_notebook(notebook: dict) -> dict:
    """A copy of a notebook (as JSON) with solutions replaced and outputs cleared.

    Each exercise's solution cell and the check cell after it are tagged
    ``raises-exception``: until solved they fail, and with that tag JupyterLab's
    "Run All" carries on past them instead of stopping at the first exercise.
    """
    result = copy.deepcopy(notebook)
    check_next = False
    for cell in result["cells"]:
        if cell["cell_type"] != "code":
            continue
        original = _source(cell)
        cell["source"] = strip_solutions(original)
        cell["outputs"] = []
        cell["execution_count"] = None
        metadata = cell.setdefault("metadata", {})
        metadata.pop("execution", None)
        is_solution = cell["source"] != original
        if is_solution or check_next:
            tags = metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
        check_next = is_solution
    return result


def dumps(notebook: dict) -> str:
    """Serialise as Jupyter does (indent 1, sorted keys), so copies are reproducible."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def course_notebooks(notebooks_dir: Path) -> list[Path]:
    """The notebooks a class works through: the contents page and the numbered chapters."""
    return sorted(
        p for p in notebooks_dir.glob("*.ipynb") if p.name[:2].isdigit() or p.name == "index.ipynb"
    )


def render(notebooks_dir: Path) -> dict[str, str]:
    """File name -> text of every student copy for the notebooks in `notebooks_dir`."""
    copies = {}
    for path in course_notebooks(notebooks_dir):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        copies[path.name] = dumps(student_notebook(notebook))
    return copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gethy.classroom",
        description="Write student copies of the notebooks: solutions replaced by a placeholder "
        "that raises NotImplementedError, checks kept, outputs cleared.",
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
