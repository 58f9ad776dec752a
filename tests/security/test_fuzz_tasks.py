"""Fuzz every registered task's parameters (from its JSON Schema in GET /api/v1/tasks) through preview and runs.

Each example starts from the same data (the named demo records), sends one request and checks what it left:
a 2xx or a 4xx in the API's error format, never a 5xx; a refused call wrote nothing anywhere; a refused or
failed run (a refused preview included) wrote its run and audit entries but not a byte of the target; a succeeded run changed exactly the
rows and emails its diff names; and the audit chain still verifies. FUZZ_SCALE scales the number of cases.
"""
from __future__ import annotations

import json

from hypothesis import given, strategies as st
from sqlalchemy import select

from console.audit.models import AuditEntry
from tests.security._invariants import (Snapshot, assert_unchanged, audit_outcomes, chain_problems,
                                        check_answer, check_run_call, connections, rolled_back)
from tests.security._strategies import fuzz_settings, header_text, run_body

EXAMPLES = 100  # per task, previews and runs drawn at random (scaled: tests.security._strategies.SCALE)
ROLES = ("agent", "lead", "admin")


def test_every_task_schema_fuzzed_through_preview_and_runs(app, client, dbs, demo_shop, api_token, record_property):
    tokens = {role: api_token(role)[1] for role in ROLES}
    listed = {role: check_answer(client.get("/api/v1/tasks", headers=headers))["tasks"]
              for role, headers in tokens.items()}
    schemas = {task["name"]: task["params"] for tasks in listed.values() for task in tasks}
    assert set(schemas) == {spec.name for spec in app.extensions["task_registry"]}, "a task escaped the fuzzing"
    console_conn = connections(dbs)[0]
    baseline = Snapshot(dbs, eager=True)
    assert not chain_problems(console_conn)
    head, head_hash = console_conn.execute(select(AuditEntry.seq, AuditEntry.hash)
                                           .order_by(AuditEntry.seq.desc()).limit(1)).one()
    tally: dict[str, int] = {}

    for name, schema in sorted(schemas.items()):
        runners = [role for role in ROLES if name in {task["name"] for task in listed[role]}]

        @fuzz_settings(EXAMPLES)
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
                if endpoint == "preview" and not (response.status_code == 422 and "run" in answer):
                    assert_unchanged(baseline, after, what=what)  # a preview writes nothing, unless refused
                    if response.status_code == 200:
                        assert isinstance(answer["changes"], list) and isinstance(answer["summary"], str), what
                else:  # a run, or a refused preview: recorded as a refused run, the target untouched
                    check_run_call(answer, response.status_code, baseline, after, console_conn, what)
                    if response.status_code == 201:  # a run that applied or asked for approval says so, in order
                        expected = ([("task.intent", "interrupted"), ("task.outcome", "succeeded")]
                                    if answer["run"]["status"] == "succeeded"
                                    else [("task.request_approval", "pending_approval")])
                        assert audit_outcomes(console_conn, answer["run"]["id"]) == expected, what
                assert not chain_problems(console_conn, head, head_hash), what
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
