"""nbgrader grades chapters 05-10 (TEACHING.md): release, collect, autograde, export.

The machinery is in gradingkit.py; chapters 00-04 are in test_grading.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gradingkit import (
    Bug,
    blank_fails_every_graded_cell_and_no_given_one,
    bug_loses_exactly_its_points,
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

BUGS: dict[str, Bug] = {
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


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Blank and buggy submissions only: strict nbval runs the solved notebooks, whose check
    # cells must pass there, so a correct submission would repeat that run.
    return graded_course(tmp_path_factory, CHAPTERS, BUGS, aside="06-multiplexing", correct=False)


def test_release_is_the_committed_student_copy(course: Path) -> None:
    release_is_the_committed_student_copy(course, CHAPTERS)


def test_blank_scores_zero_of_the_chapters_points(course: Path) -> None:
    total = correct_scores_full_marks_and_blank_zero(course, CHAPTERS)
    assert total == 64  # TEACHING.md's table: chapters 05-10 (107 in all)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_blank_copy_fails_every_graded_cell_and_no_given_one(course: Path, chapter: str) -> None:
    blank_fails_every_graded_cell_and_no_given_one(course, chapter)


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_bug_loses_exactly_the_points_of_its_exercise(course: Path, bug: str) -> None:
    bug_loses_exactly_its_points(course, bug, BUGS)
