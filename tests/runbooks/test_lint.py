"""`check_runbooks`: every failure type, the review warning, and the shipped runbooks."""
from __future__ import annotations

from datetime import date

import pytest

from console.runbooks.lint import Problem, check_runbooks, has_errors
from console.runbooks.loader import runbook_files
from tests.runbooks.conftest import GOOD_FRONT, SHIPPED_RUNBOOKS

TODAY = date(2026, 11, 27)


def check(directory, tasks):
    return check_runbooks(directory, tasks, today=TODAY)


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def test_a_good_runbook_has_no_problems(write_runbook, starter_tasks):
    path = write_runbook(body="## Fix\n\n[Unlock](task:unlock_account?email={customer.email}&ticket={ticket})\n")

    assert check(path.parent, starter_tasks) == []


def test_unknown_task_in_front_matter(write_runbook, starter_tasks):
    path = write_runbook(front=GOOD_FRONT.replace("  - unlock_account", "  - unlock_acount"))

    [problem] = check(path.parent, starter_tasks)
    assert problem == Problem(str(path), 8, "error",
                              "unknown task 'unlock_acount' in 'tasks' (did you mean 'unlock_account'?)")


def test_unknown_task_in_a_link(write_runbook, starter_tasks):
    path = write_runbook(body="Intro.\n\n[Do it](task:teleport_order?order_id={order.id})\n")

    [problem] = errors(check(path.parent, starter_tasks))
    assert (problem.line, problem.severity) == (14, "error")  # the body starts on line 12
    assert "unknown task 'teleport_order'" in problem.message


def test_unknown_parameter_and_placeholder_in_a_link(write_runbook, starter_tasks):
    path = write_runbook(body="[Unlock](task:unlock_account?mail={customer.mail})\n")

    messages = [p.message for p in errors(check(path.parent, starter_tasks))]
    assert len(messages) == 2
    assert "task 'unlock_account' has no parameter 'mail'; its parameters are: email" in messages[0] + messages[1]
    assert "unknown placeholder {customer.mail}" in messages[0] + messages[1]


def test_ticket_and_reason_are_allowed_in_any_link(write_runbook, starter_tasks):
    path = write_runbook(body="[Unlock](task:unlock_account?email={customer.email}&ticket={ticket}&reason=Locked)\n")

    assert check(path.parent, starter_tasks) == []


def test_link_to_a_task_missing_from_the_front_matter(write_runbook, starter_tasks):
    path = write_runbook(body="[Reset](task:send_password_reset?email={customer.email})\n")

    [problem] = check(path.parent, starter_tasks)
    assert "task 'send_password_reset' is not listed in the front matter's 'tasks'" in problem.message


def test_link_without_a_task_name(write_runbook, starter_tasks):
    path = write_runbook(body="[Nothing](task:?email=x)\n")

    assert "names no task" in check(path.parent, starter_tasks)[0].message


FIELDS = {
    "title": "title: Customer cannot log in\n",
    "category": "category: account\n",
    "symptoms": "symptoms:\n  - customer cannot log in\n",
    "tasks": "tasks:\n  - unlock_account\n",
    "owner": "owner: accounts-team\n",
    "reviewed": "reviewed: 2026-11-01\n",
}


@pytest.mark.parametrize("field", FIELDS)
def test_missing_required_field(write_runbook, starter_tasks, field):
    path = write_runbook(front="".join(text for name, text in FIELDS.items() if name != field))

    [problem] = check(path.parent, starter_tasks)
    assert (problem.severity, problem.message) == ("error", f"missing required field {field!r}")


def test_broken_front_matter_is_reported_by_file_and_line(write_runbook, starter_tasks):
    path = write_runbook(front="title: ok\nsymptoms: [unclosed\nowner: x\n")

    [problem] = check(path.parent, starter_tasks)
    assert (problem.file, problem.line, problem.severity) == (str(path), 4, "error")
    assert "front matter is not valid YAML" in problem.message


@pytest.mark.parametrize("body, line, expected", [
    ("ok\n\n<script>alert(1)</script>\n", 14, "<script> is not allowed"),
    ('<img src="x" onerror="alert(1)">\n', 12, "attribute 'onerror' on <img>"),
    ("Click [here](javascript:alert(1)).\n", 12, "unsafe link"),
    ('Text with <a href="javascript:alert(1)">inline</a> html.\n', 12, "forbidden URL scheme"),
    ("<iframe src=\"https://example.com\"></iframe>\n", 12, "<iframe> is not allowed"),
    ('<div class="note" style="color:red">\n\nhi\n\n</div>\n', 12, "attribute 'style' on <div>"),
    ("para\nline two <b onclick=x>b</b>\n", 13, "attribute 'onclick' on <b>"),
    ("![pic](data:image/svg+xml;base64,PHN2Zz4=)\n", 12, "unsafe image"),
])
def test_unsafe_html_fails_at_its_line(write_runbook, starter_tasks, body, line, expected):
    path = write_runbook(body=body)

    [problem] = check(path.parent, starter_tasks)
    assert (problem.line, problem.severity) == (line, "error")
    assert expected in problem.message


def test_broken_internal_links(write_runbook, starter_tasks):
    write_runbook("refund-request", body="## Which amount\n\nText.\n")
    path = write_runbook("cannot-log-in", body=(
        "## Decide\n\n"
        "[ok](refund-request.md#which-amount) [ok](runbook:refund-request) [ok](#decide)\n\n"
        "[no page](nope.md) [no anchor](refund-request.md#nowhere) [no self anchor](#nowhere) [no rb](runbook:gone)\n"
    ))

    messages = [p.message for p in check(path.parent, starter_tasks) if p.file == str(path)]
    assert sorted(messages) == [
        "broken link '#nowhere': runbook 'cannot-log-in' has no heading with the anchor #nowhere",
        "broken link 'nope.md': there is no runbook 'nope'",
        "broken link 'refund-request.md#nowhere': runbook 'refund-request' has no heading with the anchor #nowhere",
        "broken link 'runbook:gone': there is no runbook 'gone'",
    ]


def test_old_review_is_a_warning_not_an_error(write_runbook, starter_tasks):
    path = write_runbook(front=GOOD_FRONT.replace("2026-11-01", "2026-05-30"))  # 181 days before TODAY

    [problem] = check(path.parent, starter_tasks)
    assert (problem.severity, problem.line) == ("warning", 10)
    assert "last reviewed 181 days ago" in problem.message
    assert not has_errors([problem])


def test_review_exactly_180_days_ago_is_fine(write_runbook, starter_tasks):
    path = write_runbook(front=GOOD_FRONT.replace("2026-11-01", "2026-05-31"))

    assert check(path.parent, starter_tasks) == []


def test_missing_directory_is_an_error(tmp_path, starter_tasks):
    [problem] = check(tmp_path / "missing", starter_tasks)

    assert problem.severity == "error" and "not found" in problem.message


def test_problem_prints_as_file_line_severity_message():
    assert str(Problem("runbooks/a.md", 3, "error", "boom")) == "runbooks/a.md:3: error: boom"


def test_shipped_runbooks_pass_with_the_starter_tasks(starter_tasks):
    problems = check_runbooks(SHIPPED_RUNBOOKS, starter_tasks)

    assert errors(problems) == []


def test_shipped_runbooks_cover_the_issue_and_name_escalation_classes():
    texts = {path.stem: path.read_text() for path in runbook_files(SHIPPED_RUNBOOKS)}

    assert {"cannot-log-in", "confirmation-email-missing", "change-email-address", "password-reset",
            "order-stuck-in-processing", "wrong-shipping-address", "where-is-my-order", "refund-request",
            "cancel-order", "delete-account-and-data"} <= set(texts)
    for slug, text in texts.items():
        assert "## When to escalate" in text or slug == "escalating-a-ticket", slug
        assert any(cls in text for cls in ("knowledge", "small_change", "specialist")), slug
    assert "EUR 100.00" in texts["refund-request"] and "approval" in texts["refund-request"]
