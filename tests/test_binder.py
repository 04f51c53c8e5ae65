"""The repository is Binder-ready, as repo2docker reads a repository.

repo2docker (what mybinder.org builds with) takes Python's version from `runtime.txt`, Debian
packages from `apt.txt`, and installs `requirements.txt`. Building its image needs a container
engine, which this machine has not; `repo2docker --no-build --debug .` (run by hand) prints
the Dockerfile it would build, with Python 3.11, `apt-get install curl nghttp2-client` and
`pip install -r requirements.txt`. What these tests check is that those files agree with the
project: the version pyproject.toml allows and requirements.txt was resolved on, the tools the
notebooks call, and the launch badge opening the exercise copies.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
# The command-line clients the course can drive, and the Debian package each comes in.
TOOL_PACKAGES = {"curl": "curl", "nghttp": "nghttp2-client", "h2load": "nghttp2-client"}
# Commands that come with the Python environment requirements.txt installs.
PYTHON_COMMANDS = {"python", "python3", "pip", "jupyter", "pytest"}
COMMAND_CALL = re.compile(
    r"""^\s*!\s*(?P<shell>[\w.-]+)"""  # IPython's `!curl ...`
    r"""|shutil\.which\(\s*["'](?P<which>[\w.-]+)["']"""
    r"""|(?:subprocess\.\w+|create_subprocess_exec)\(\s*\[?\s*["'](?P<run>[\w.-]+)["']""",
    re.MULTILINE,
)
BINDER = "https://mybinder.org/v2/gh/gethy-course/gethy/HEAD?urlpath="
EXERCISES = "lab/tree/notebooks/student/index.ipynb"


def listed(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_runtime_is_the_python_the_project_supports_and_was_resolved_on():
    (runtime,) = listed(ROOT / "runtime.txt")
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"runtime.txt says {runtime!r}; repo2docker reads python-X.Y"
    version = match.group(1)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert version in SpecifierSet(pyproject["project"]["requires-python"])
    assert f"Resolved together on Python {version}" in (ROOT / "requirements.txt").read_text()


def commands_the_notebooks_call() -> dict[str, set[str]]:
    """Each command a solved notebook's code runs, with the notebooks that run it."""
    calls: dict[str, set[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            for match in COMMAND_CALL.finditer("".join(cell["source"])):
                command = match.group("shell") or match.group("which") or match.group("run")
                calls.setdefault(command, set()).add(path.name)
    return calls


def test_apt_txt_installs_every_tool_the_notebooks_call_and_nothing_else():
    packages = listed(ROOT / "apt.txt")
    assert sorted(packages) == sorted(set(TOOL_PACKAGES.values()))
    for command, notebooks in commands_the_notebooks_call().items():
        if command in PYTHON_COMMANDS:
            continue
        assert command in TOOL_PACKAGES, f"{sorted(notebooks)} call {command!r}: add to apt.txt"


def test_the_command_scan_sees_the_ways_a_notebook_calls_a_tool():
    cells = [
        "!curl --http2-prior-knowledge http://127.0.0.1:8000/",
        'path = shutil.which("nghttp")',
        'await asyncio.create_subprocess_exec("h2load", "-n", "10", url)',
        'subprocess.run(["h2spec", "-p", str(port)], check=True)',
    ]
    commands = [next(g for g in m.groups() if g) for c in cells for m in COMMAND_CALL.finditer(c)]
    assert commands == ["curl", "nghttp", "h2load", "h2spec"]


def test_launch_badges_open_the_exercise_copies_on_binder():
    readme = (ROOT / "README.md").read_text()
    index = json.loads((ROOT / "notebooks" / "index.ipynb").read_text())
    first_cell = "".join(index["cells"][0]["source"])
    for text in (readme, first_cell):
        assert f"]({BINDER}{EXERCISES})" in text
    assert (ROOT / "notebooks" / "student" / "index.ipynb").exists()
