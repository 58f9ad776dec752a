"""Loading runbook files: fields, line numbers, and broken files that never crash."""
from __future__ import annotations

from datetime import date

from console.runbooks.loader import Escalation, load_runbook, load_runbooks
from tests.runbooks.conftest import GOOD_FRONT, SHIPPED_RUNBOOKS


def test_fields_and_slug_come_from_the_file(write_runbook):
    path = write_runbook("cannot-log-in", front=GOOD_FRONT + "escalate_to:\n  class: specialist\n  team: accounts\n",
                         body="## Check\n\nLook it up.\n")

    runbook = load_runbook(path)

    assert runbook.slug == "cannot-log-in"
    assert runbook.title == "Customer cannot log in"
    assert runbook.category == "account"
    assert runbook.symptoms == ("customer cannot log in", "account is locked")
    assert runbook.tasks == ("unlock_account",)
    assert runbook.owner == "accounts-team"
    assert runbook.reviewed == date(2026, 11, 1)
    assert runbook.escalate_to == Escalation("specialist", "accounts")
    assert runbook.body == "## Check\n\nLook it up.\n"
    assert not runbook.has_error and runbook.error_summary == ""


def test_body_line_and_field_lines_point_into_the_file(write_runbook):
    runbook = load_runbook(write_runbook())

    lines = runbook.path.read_text().splitlines()
    assert lines[runbook.body_line - 1] == "## Check"
    assert lines[runbook.field_lines["reviewed"] - 1].startswith("reviewed:")
    assert lines[runbook.task_lines["unlock_account"] - 1].strip() == "- unlock_account"


def test_invalid_yaml_is_reported_with_its_line_not_raised(write_runbook):
    path = write_runbook(front="title: Broken\nsymptoms: [a, b\nowner: x\n")

    runbook = load_runbook(path)

    assert runbook.has_error
    assert runbook.title == "cannot-log-in"  # falls back to the slug so lists can still show it
    assert "not valid YAML" in runbook.errors[0].message
    assert runbook.errors[0].line == 4  # the '---' is line 1, so 'owner: x' is line 4
    assert runbook.error_summary.startswith("cannot-log-in.md:4: ")


def test_missing_front_matter_and_unclosed_front_matter(write_runbook):
    no_front = load_runbook(write_runbook("plain", text="# Just markdown\n"))
    unclosed = load_runbook(write_runbook("unclosed", text="---\ntitle: x\n\n# Body\n"))

    assert "no front matter" in no_front.errors[0].message
    assert "not closed" in unclosed.errors[0].message


def test_each_missing_required_field_is_an_error(write_runbook):
    runbook = load_runbook(write_runbook(front="title: Only a title\n"))

    messages = {problem.message for problem in runbook.errors}
    assert messages == {f"missing required field {name!r}"
                        for name in ("category", "symptoms", "tasks", "owner", "reviewed")}


def test_wrong_types_name_the_field(write_runbook):
    front = """\
title: 12
category: account
symptoms: customer cannot log in
tasks: [unlock_account]
owner: accounts-team
reviewed: last tuesday
escalate_to:
  class: developers
"""
    runbook = load_runbook(write_runbook(front=front))

    messages = " | ".join(problem.message for problem in runbook.errors)
    assert "'title' must be non-empty text" in messages
    assert "'symptoms' must be a list" in messages
    assert "'reviewed' must be a date" in messages
    assert "'escalate_to.class' must be one of knowledge, small_change, specialist" in messages


def test_unknown_field_is_a_warning_only(write_runbook):
    runbook = load_runbook(write_runbook(front=GOOD_FRONT + "symptom: typo\n"))

    assert not runbook.has_error
    assert [p.severity for p in runbook.problems] == ["warning"]
    assert "unknown field 'symptom'" in runbook.problems[0].message


def test_front_matter_that_is_not_a_mapping(write_runbook):
    runbook = load_runbook(write_runbook(front="- just\n- a list\n"))

    assert "must be a mapping" in runbook.errors[0].message


def test_bad_file_name_and_undecodable_file(tmp_path):
    bad_name = tmp_path / "Bad Name.md"
    bad_name.write_text("---\ntitle: x\n---\n")
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe\x00garbage")

    assert "must be lower-case letters" in load_runbook(bad_name).errors[0].message
    assert "cannot read the file" in load_runbook(binary).errors[0].message


def test_load_runbooks_keeps_going_past_broken_files(write_runbook):
    write_runbook("b-good")
    write_runbook("a-broken", front="title: [\n")

    runbooks = load_runbooks(write_runbook("c-good").parent)

    assert [r.slug for r in runbooks] == ["a-broken", "b-good", "c-good"]
    assert [r.has_error for r in runbooks] == [True, False, False]


def test_readme_and_underscore_files_are_notes_not_runbooks(write_runbook):
    folder = write_runbook("real").parent
    (folder / "README.md").write_text("# How to write a runbook\n")
    (folder / "_template.md").write_text("---\ntitle: x\n---\n")

    assert [r.slug for r in load_runbooks(folder)] == ["real"]


def test_missing_directory_loads_nothing(tmp_path):
    assert load_runbooks(tmp_path / "nope") == []


def test_shipped_runbooks_load_without_errors():
    runbooks = load_runbooks(SHIPPED_RUNBOOKS)

    assert len(runbooks) >= 10
    assert [r.error_summary for r in runbooks if r.has_error] == []
