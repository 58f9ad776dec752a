"""Fuzz every registered task's parameters (from its JSON Schema in GET /api/v1/tasks) through preview and runs.

Each example starts from the same data (the named demo records), sends one request and checks what it left:
a 2xx or a 4xx in the API's error format, never a 5xx; a refused call wrote nothing anywhere; a refused or
failed run wrote its run and audit entries but not a byte of the target; a succeeded run changed exactly the
rows and emails its diff names; and the audit chain still verifies. FUZZ_EXAMPLES scales the number of cases.
"""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from console.audit.models import AuditEntry
from tests.security._invariants import (Snapshot, assert_unchanged, assert_whole_run, bearer, chain_problems,
                                        check_answer, connections, rolled_back)
from tests.security._strategies import any_json, nasty_text, params_for, reasons, tickets

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))  # per task: previews and runs drawn at random
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
ROLES = ("agent", "lead", "admin")


@st.composite
def run_body(draw, schema: dict):
    body = {"params": draw(params_for(schema)), "ticket": draw(tickets), "reason": draw(reasons)}
    for name in draw(st.lists(st.sampled_from(sorted(body)), unique=True, max_size=3)):
        if draw(st.integers(0, 3)) == 0:  # a dropped field, now and then
            del body[name]
    body.update(draw(st.dictionaries(nasty_text, any_json, max_size=2)))  # unknown top-level members
    return body


header_text = nasty_text.map(lambda s: s.encode("utf-8", "surrogatepass").decode("latin-1")).filter(
    lambda s: not any(ch in s for ch in "\r\n\x00"))


def _audit_actions(conn, run_id) -> list[tuple[str, str]]:
    return [tuple(row) for row in conn.execute(
        select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.subject_type == "task_run",
                                                            AuditEntry.subject_id == str(run_id))
        .order_by(AuditEntry.seq))]


def _check_run(answer: dict, status: int, before: Snapshot, after: Snapshot, conn, what: str) -> None:
    if status == 201:
        run = answer["run"]
        assert run["status"] in ("succeeded", "pending_approval"), what
        if run["status"] == "succeeded":
            assert_whole_run(before, after, run)
            assert _audit_actions(conn, run["id"]) == [("task.intent", "interrupted"), ("task.outcome", "succeeded")]
        else:
            assert_unchanged(before, after, "target", what=what)
            assert _audit_actions(conn, run["id"]) == [("task.request_approval", "pending_approval")], what
    elif status == 422 and "run" in answer:
        run = answer["run"]
        assert run["status"] in ("refused", "failed") and run["status"] == answer["error"]["code"], what
        assert_unchanged(before, after, "target", what=what)
        assert ("task.outcome", run["status"]) in _audit_actions(conn, run["id"]), what
    else:
        assert_unchanged(before, after, what=what)


def test_every_task_schema_fuzzed_through_preview_and_runs(app, client, dbs, console_db, demo_shop, make_user,
                                                           record_property):
    tokens = {role: bearer(console_db, make_user(role)) for role in ROLES}
    listed = {role: check_answer(client.get("/api/v1/tasks", headers=headers))["tasks"]
              for role, headers in tokens.items()}
    schemas = {task["name"]: task["params"] for tasks in listed.values() for task in tasks}
    assert set(schemas) == {spec.name for spec in app.extensions["task_registry"]}, "a task escaped the fuzzing"
    console_conn = connections(dbs)[0]
    baseline = Snapshot(dbs)
    assert not chain_problems(console_conn)
    head = console_conn.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    tally: dict[str, int] = {}

    for name, schema in sorted(schemas.items()):
        runners = [role for role in ROLES if name in {task["name"] for task in listed[role]}]

        @FUZZ
        @given(endpoint=st.sampled_from(["preview", "runs"]), role=st.sampled_from(runners), body=run_body(schema),
               key=st.one_of(st.none(), header_text))
        def fuzz(endpoint, role, body, key):
            headers = dict(tokens[role])
            if key is not None and endpoint == "runs":
                headers["Idempotency-Key"] = key
            what = f"{role} POST {name}/{endpoint} {json.dumps(body)[:300]}"
            with rolled_back(dbs):
                response = client.post(f"/api/v1/tasks/{name}/{endpoint}", data=json.dumps(body),
                                       content_type="application/json", headers=headers)
                answer = check_answer(response, what)
                after = Snapshot(dbs)
                if endpoint == "preview":
                    assert_unchanged(baseline, after, what=what)  # a preview writes nothing, whatever it answers
                    if response.status_code == 200:
                        assert isinstance(answer["changes"], list) and isinstance(answer["summary"], str), what
                else:
                    _check_run(answer, response.status_code, baseline, after, console_conn, what)
                assert not chain_problems(console_conn, head), what
            tally[f"{name} {response.status_code}"] = tally.get(f"{name} {response.status_code}", 0) + 1

        fuzz()
        assert Snapshot(dbs).differences(baseline, "target") == [], "an example leaked into the next one"

    cases = sum(tally.values())
    record_property("fuzz_cases", cases)
    print(f"\n[fuzz] task schemas: {cases} cases: " + ", ".join(f"{k}={v}" for k, v in sorted(tally.items())))
    # Every task must have been reached beyond validation at least once, or the fuzzing proves little.
    for name in schemas:
        assert any(key.startswith(f"{name} ") and not key.endswith(" 400") for key in tally), (
            f"{name}: every case stopped at validation")
