"""nbgrader grades chapters 00-04 (TEACHING.md): release, collect, autograde, export.

The machinery is in gradingkit.py; chapters 05-10 are in test_grading_later.py, graded on
another worker at the same time. The typical bugs here are the ones the
course's issues name; the others of TEACHING.md's table (04's Exercises 4.2-4.6, and 06) run
in-process in test_one_bug_one_exercise.py, and those of 05, 07, 08, 09 and 10 in their own
fast tests (test_exercises_ch05.py, test_ch07_checks.py, test_ch08_attacks.py,
test_ch09_mutation.py, test_ch10_checks.py).
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

CHAPTERS = ["00-start-here", "01-frames-by-hand", "02-h2-event-model", "03-receive", "04-send"]

BUGS: dict[str, Bug] = {
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
    "no-server-preface": (
        "03-receive",
        "ex3_2_my_receive_check",
        ("ex3_2_my_receive", [("self.http2_connection.initiate_connection()", "pass")]),
    ),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return graded_course(tmp_path_factory, CHAPTERS, BUGS, aside="03-receive")


def test_release_is_the_committed_student_copy(course: Path) -> None:
    release_is_the_committed_student_copy(course, CHAPTERS)


def test_correct_scores_full_marks_and_blank_scores_zero(course: Path) -> None:
    total = correct_scores_full_marks_and_blank_zero(course, CHAPTERS)
    assert total == 43  # TEACHING.md's table: chapters 00-04 (107 in all)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_blank_copy_fails_every_graded_cell_and_no_given_one(course: Path, chapter: str) -> None:
    blank_fails_every_graded_cell_and_no_given_one(course, chapter)


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_bug_loses_exactly_the_points_of_its_exercise(course: Path, bug: str) -> None:
    bug_loses_exactly_its_points(course, bug, BUGS)
