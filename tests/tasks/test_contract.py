"""The contract every registered task keeps, whoever wrote it.

For each task: a title and a description; a form that renders with a label per parameter; a valid JSON Schema
(Draft 2020-12) that accepts the sample values; a preview that writes nothing to either database; a refusal
that leaves both databases as they were (apart from the refused run's own record); an audit entry after a run.

Sample values are the task's `examples[0]` when it declares examples, else values derived from its JSON Schema.
The named demo records are loaded, so examples may point at alice's orders or the locked account.
"""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import inspect, select

from admin_tasks.shop_schema import ShopBase
from console import create_app
from console.audit.models import AuditEntry
from console.db import ConsoleBase
from console.tasks import Refusal, TaskContext
from console.tasks.runner import RunRequest, TaskError, preview, start_run
from console.tasks.presenting import sample_value

TICKET = "T-CONTRACT"
# What a refused run may add to the console database: its own record, its audit entries and its ticket link
# (the ticket, its events and whatever the deflection domain keeps current from them).
RUN_TRAIL_PREFIXES = ("task_runs", "task_idempotency_keys", "audit_", "ticket")


def registered_task_names() -> list[str]:
    """Discover the tasks the suite's app will have, without touching any database."""
    app = create_app({"TESTING": True, "SECRET_KEY": "contract", "CONSOLE_AUDIT_KEY": "contract",
                      "CONSOLE_DATABASE_URL": "sqlite://", "TARGET_DATABASE_URL": "sqlite://"})
    try:
        return [spec.name for spec in app.extensions["task_registry"]]
    finally:
        app.extensions["console_db"].dispose()


TASKS = registered_task_names()


def test_tasks_are_registered():
    assert TASKS, "no task is registered: the contract below would check nothing"


@pytest.fixture
def spec(app, request):
    return app.extensions["task_registry"].get(request.param)


def sample_params(spec) -> dict:
    if spec.examples:
        return dict(spec.examples[0])
    schema = spec.json_schema()
    return {name: sample_value(prop) for name, prop in schema["properties"].items()}


def runner_role(spec) -> str:
    from console.permissions import REQUEST_HIGH_RISK, role_can

    for role in ("agent", "lead", "admin", *spec.roles):
        if role in spec.roles and role_can(role, REQUEST_HIGH_RISK):
            return role
    return spec.roles[0]


def snapshot(session, metadata) -> dict[str, list]:
    """Every row of every table the database has, as sorted tuples of text."""
    present = set(inspect(session.connection()).get_table_names())
    state = {}
    for table in metadata.sorted_tables:
        if table.name in present:
            rows = session.execute(select(table)).all()
            state[table.name] = sorted(tuple(repr(value) for value in row) for row in rows)
    return state


def changed_tables(before: dict, after: dict) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture
def request_for(make_user, demo_shop):
    def make(spec, **overrides) -> RunRequest:
        fields = dict(task=spec.name, params=sample_params(spec), ticket=TICKET, reason="contract test",
                      actor=make_user(runner_role(spec)), source="api")
        fields.update(overrides)
        return RunRequest(**fields)

    return make


each_task = pytest.mark.parametrize("spec", TASKS, indirect=True)


@each_task
def test_has_a_title_a_category_and_a_description(spec):
    assert spec.title.strip() and spec.category.strip()
    assert len(spec.description.strip()) >= 20, "the docstring is the description agents read; say what it does"


@each_task
def test_form_renders_with_a_label_for_every_parameter(spec, client, make_user, auth):
    auth.login(make_user(runner_role(spec)).email)
    response = client.get(f"/admin/tasks/{spec.name}/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for param in spec.params:
        assert re.search(f'<label[^>]* for="{param.name}"', html), param.name
        assert f'name="{param.name}"' in html, param.name


@each_task
def test_json_schema_is_valid_and_accepts_the_sample_values(spec):
    schema = spec.json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {param.name for param in spec.params}
    assert set(schema.get("required", [])) == {param.name for param in spec.params if param.required}
    Draft202012Validator(schema).validate(sample_params(spec))


@each_task
def test_preview_writes_nothing_to_either_database(spec, app, request_for, console_db, target_db):
    request = request_for(spec)
    console_before, target_before = snapshot(console_db, ConsoleBase.metadata), snapshot(target_db, ShopBase.metadata)
    with app.app_context():
        try:
            preview(request)
        except TaskError as exc:
            assert exc.status == 422, f"the sample values should be valid: {exc.status} {exc.message} {exc.fields}"
    assert snapshot(target_db, ShopBase.metadata) == target_before
    assert snapshot(console_db, ConsoleBase.metadata) == console_before


@each_task
def test_a_refusal_leaves_both_databases_unchanged(spec, app, request_for, console_db, target_db, monkeypatch):
    # Make every write refuse right after it is made, so a task that gets as far as writing proves the
    # runner throws its partial change away; a task that refuses earlier proves the same for its own refusal.
    writes = []
    for method in ("update", "insert", "send_email"):
        original = getattr(TaskContext, method)

        def refuse_after(self, *args, _original=original, _method=method, **kwargs):
            _original(self, *args, **kwargs)
            writes.append(_method)
            raise Refusal("contract test: refused after a write")

        monkeypatch.setattr(TaskContext, method, refuse_after)
    request = request_for(spec)
    console_before, target_before = snapshot(console_db, ConsoleBase.metadata), snapshot(target_db, ShopBase.metadata)
    with app.app_context(), pytest.raises(TaskError) as refused:
        start_run(request)
    assert (refused.value.status, refused.value.code) == (422, "refused"), refused.value.message
    run = refused.value.run
    assert run is not None and run.status == "refused"
    if writes:  # the task got as far as a write: the refusal must be the one raised after it, not swallowed
        assert "contract test: refused after a write" in run.error
    assert snapshot(target_db, ShopBase.metadata) == target_before
    console_after = snapshot(console_db, ConsoleBase.metadata)
    assert all(name.startswith(RUN_TRAIL_PREFIXES) for name in changed_tables(console_before, console_after))
    new_runs = set(console_after["task_runs"]) - set(console_before["task_runs"])
    assert len(new_runs) == 1 and all(repr(run.id) == row[0] for row in new_runs)


@each_task
def test_a_run_leaves_an_audit_entry(spec, app, request_for, console_db):
    request = request_for(spec)
    with app.app_context():
        try:
            run = start_run(request)
        except TaskError as exc:
            assert exc.run is not None, f"the sample values should be valid: {exc.status} {exc.message}"
            run = exc.run
    entries = console_db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "task_run",
                                                          AuditEntry.subject_id == str(run.id))).all()
    assert entries, f"run {run.id} ({run.status}) has no audit entry"
    assert all(entry.task == spec.name and entry.ticket == TICKET for entry in entries)
    assert run.status in {entry.outcome for entry in entries}
