"""Notebook 09's mutation-style grading: full marks for the solved tests, zero for empty ones.

The solved tests are the notebook's own solution cells, found by grade_id and run
with the notebook's given cells (so this tests what the notebook ships, not a
copy). The grader must give them full marks, and give zero to an empty test, to
a test that fails on every class, and to the blank student copy's placeholder.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest

from gethy import CoreProtocol, HTTP2Protocol
from gethy.checkrun import CHECKS, check
from gethy.checks import run_checks
from gethy.exercises import CheckFailed, ch09
from gethy.mutants import MUTANTS, AcknowledgesUnpadded, LosesLastByte, bug

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "09-testing-sans-io.ipynb"

# grade_id of each solution cell -> the name it defines, and how its check grades it.
SOLVED = {
    "ex9_1_upload_test": ("test_upload_arrives_whole", ch09.check_upload_test),
    "ex9_2_split_property": ("test_any_split_gives_the_same_events", ch09.check_split_property),
}
TARGETS = {
    "test_upload_arrives_whole": ["NeverAcknowledges", "DropsTrailers"],
    "test_any_split_gives_the_same_events": ["ReturnsFirstEvent"],
    "padding_acknowledged": ["AcknowledgesUnpadded"],
}


@pytest.fixture(scope="module")
def notebook():
    """The namespace of notebook 09 run without its graded cells, output swallowed.

    The notebook registers a check of its own (Exercise 9.3); it is removed
    afterwards so that other tests in this process see gethy's checks only.
    """
    before = list(CHECKS)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in cells:
            if cell.cell_type == "code" and not cell.metadata["nbgrader"].get("grade"):
                exec(compile(cell.source, NOTEBOOK.name, "exec"), namespace)
    yield namespace
    CHECKS[:] = before


def solved_tests(namespace: dict) -> dict:
    tests = {name: namespace[name] for name, _ in SOLVED.values()}
    tests["padding_acknowledged"] = next(c.run for c in CHECKS if c.name == "padding_acknowledged")
    return tests


def test_the_solved_tests_get_full_marks(notebook):
    for name, test_fn in solved_tests(notebook).items():
        grade = ch09.grade_tests(test_fn, [MUTANTS[m] for m in TARGETS[name]])
        assert grade.full_marks, str(grade)
        assert grade.score == 1.0 and not grade.survived


def test_the_checks_pass_the_solved_tests(notebook):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for name, check_fn in SOLVED.values():
            check_fn(notebook[name])
        ch09.check_added_check("padding_acknowledged")
        ch09.hidden_upload_test(notebook["test_upload_arrives_whole"])
        ch09.hidden_added_check("padding_acknowledged")
    assert out.getvalue().count("PASS  Exercise 9.") == 3


def empty_test(protocol_class) -> None:
    """Tests nothing, so it passes on every class."""


def failing_test(protocol_class) -> None:
    raise AssertionError("fails whatever the class")


def placeholder_test(protocol_class) -> None:
    raise NotImplementedError()  # what a blank student copy holds


@pytest.mark.parametrize("name", list(TARGETS))
def test_an_empty_test_gets_zero_and_every_target_survives(name):
    grade = ch09.grade_tests(empty_test, [MUTANTS[m] for m in TARGETS[name]])
    assert grade.score == 0.0 and not grade.full_marks
    assert [m.__name__ for m in grade.survived] == TARGETS[name]
    assert "SURVIVED" in str(grade) and "score 0%" in str(grade)


@pytest.mark.parametrize("test_fn", [failing_test, placeholder_test])
def test_a_test_that_fails_on_the_correct_class_gets_zero(test_fn):
    grade = ch09.grade_tests(test_fn, list(MUTANTS.values()))
    assert grade.correct.caught and grade.score == 0.0
    assert all(not v.caught for v in grade.mutants), "mutants are not run, nor counted"
    assert "NOT RUN" in str(grade)


def test_check_messages_name_the_survivors_in_words():
    with pytest.raises(CheckFailed) as empty, contextlib.redirect_stdout(io.StringIO()):
        ch09.check_upload_test(empty_test)
    assert "NeverAcknowledges" in str(empty.value) and "DropsTrailers" in str(empty.value)
    assert "never acknowledges received DATA" in str(empty.value)
    with pytest.raises(CheckFailed) as blank, contextlib.redirect_stdout(io.StringIO()):
        ch09.check_split_property(placeholder_test)
    assert "not written yet" in str(blank.value) and "correct class" in str(blank.value)


def test_a_test_that_only_looks_at_the_class_name_is_refused_by_the_hidden_check():
    def by_name(protocol_class) -> None:
        assert protocol_class.__name__ == "CoreProtocol"

    assert ch09.grade_tests(by_name, [AcknowledgesUnpadded]).full_marks
    with pytest.raises(CheckFailed, match="name, module or method names"):
        ch09.hidden_upload_test(by_name)


def test_tests_that_tell_the_bugs_by_module_method_or_name_are_refused_too():
    """Each scores full marks on the visible check, by looking at the class, not its work."""

    def by_module(protocol_class) -> None:
        assert protocol_class.__module__ != "gethy.mutants"

    def by_method(protocol_class) -> None:
        assert protocol_class.receive.__qualname__ == "CoreProtocol.receive"

    def by_bug_name(factory) -> None:
        assert "Unpadded" not in factory.__name__

    for test_fn, hidden in [
        (by_module, ch09.hidden_upload_test),
        (by_method, ch09.hidden_split_property),
    ]:
        with pytest.raises(CheckFailed, match="name, module or method names"):
            hidden(test_fn)
    assert ch09.grade_tests(by_bug_name, [AcknowledgesUnpadded]).full_marks
    with pytest.raises(CheckFailed, match="named AcknowledgesUnpadded"):
        ch09._still_passes("9.3", by_bug_name, [AcknowledgesUnpadded])


def test_grading_restores_the_hypothesis_profile():
    from hypothesis import settings

    before = settings.get_current_profile_name()
    ch09.grade_tests(empty_test, [LosesLastByte])
    assert settings.get_current_profile_name() == before


def test_every_mutant_is_caught_by_a_check_or_a_solved_test(notebook):
    own = [c for c in CHECKS if c.run.__module__ == "gethy.checks"]  # not the notebook's
    parts = ["receive", "send"]
    caught_by_checks = {
        name for name, mutant in MUTANTS.items() if not run_checks(mutant, parts, checks=own).passed
    }
    assert run_checks(CoreProtocol, parts, checks=own).passed
    survivors = set(MUTANTS) - caught_by_checks
    assert survivors == {"AcknowledgesUnpadded", "LosesLastByte"}, "notebook 09's table"
    body_property = notebook["every_body_arrives_intact"]
    assert ch09.run_test(lambda cls: body_property(cls)(), LosesLastByte).caught
    assert not ch09.run_test(lambda cls: body_property(cls)(), CoreProtocol).caught
    assert all(bug(m) and bug(m).endswith((".", ")")) for m in MUTANTS.values())


def test_hardened_class_passes_the_learners_padding_check(notebook):
    padding = next(c.run for c in CHECKS if c.name == "padding_acknowledged")
    assert not ch09.run_test(padding, HTTP2Protocol).caught


def test_registering_a_check_again_replaces_it():
    before = list(CHECKS)
    try:

        @check("receive", "first")
        def twice(factory) -> None:
            pass

        @check("receive", "second")
        def twice(factory) -> None:  # noqa: F811 (a notebook cell run again)
            pass

        named = [c for c in CHECKS if c.name == "twice"]
        assert [c.description for c in named] == ["second"]
    finally:
        CHECKS[:] = before


def test_a_property_without_settings_is_graded_deterministically_and_without_deadline():
    from hypothesis import given
    from hypothesis import strategies as st

    seen: list[list[int]] = []

    def bare_property(protocol_class) -> None:
        @given(st.integers(0, 1_000_000))
        def property_(n: int) -> None:
            seen[-1].append(n)

        property_()

    for _ in range(2):
        seen.append([])
        assert not ch09.run_test(bare_property, CoreProtocol).caught
    assert seen[0] == seen[1] and len(seen[0]) > 10
