"""nbgrader grades chapters 05-10 (TEACHING.md): release, collect, autograde, export.

The machinery is in gradingkit.py; chapters 00-04 are in test_grading.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gradingkit import (
    Bug,
    blank_fails_every_graded_cell_and_no_given_one,
    correct_scores_full_marks_and_blank_zero,
    graded_course,
    release_is_the_committed_student_copy,
)

CHAPTERS = [
    "05-flow-control-lab",
    "06-multiplexing",
    "07-asyncio-server",
    "08-errors-and-attacks",
    "09-testing-sans-io",
    "10-capstone",
]

# The typical bugs of these chapters are graded in their own fast tests (test_exercises_ch05.py,
# test_one_bug_one_exercise.py for 06, test_ch07_checks.py, test_ch08_attacks.py,
# test_ch09_mutation.py, test_ch10_checks.py): only blank copies here.
BUGS: dict[str, Bug] = {}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Blank submissions only: strict nbval runs the solved notebooks, whose check cells must
    # pass there, so a correct submission would repeat that run.
    return graded_course(tmp_path_factory, CHAPTERS, BUGS, aside="10-capstone", correct=False)


def test_release_is_the_committed_student_copy(course: Path) -> None:
    release_is_the_committed_student_copy(course, CHAPTERS)


def test_blank_scores_zero_of_the_chapters_points(course: Path) -> None:
    total = correct_scores_full_marks_and_blank_zero(course, CHAPTERS)
    assert total == 64  # TEACHING.md's table: chapters 05-10 (107 in all)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_blank_copy_fails_every_graded_cell_and_no_given_one(course: Path, chapter: str) -> None:
    blank_fails_every_graded_cell_and_no_given_one(course, chapter)
