"""Run pages, run history and the approval queue; approve, reject, undo and reconcile go through the runner."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from console.audit.browse import action_words
from console.audit.models import AuditEntry
from console.audit.views import entry_statuses
from console.extensions import request_user
from console.permissions import APPROVE_RUNS, READ_AUDIT, RUN_TASKS, UNDO_RUNS, WORK_TICKETS, user_can
from console.db import console_session, utcnow
from console.deflection.tickets import find_ticket
from console.deflection.workflow import allowed_outcomes
from console.formatting import Personal, human_column
from console.tasks.approvals import is_own_run
from console.tasks.disclosure import RUN_TEXTS, masked_run, suggested_reply
from console.tasks.models import STATUSES, TaskRun
from console.tasks.pages import TaskPagesView, audit_entry_url
from console.jsontext import jsonable
from console.tasks.presenting import change_sentence, change_tables, currency_of, effect_lines, find_task
from console.tasks.runner import (TaskError, approve_run, pending_approvals, preview_undo, reconcile_run, reject_run,
                                  run_history, run_to_dict, undo_run)

PAGE_SIZE = 50
FILTERS = ("ticket", "customer", "task", "status", "actor")
MAX_FILTER = 254
RESOLVE_ENDPOINT = "tickets.resolve"


def _user():
    return request_user()


def _run_or_404(run_id: int):
    run = console_session().get(TaskRun, run_id)
    if run is None:
        abort(404, description=f"There is no run {run_id}.")
    return run


def pending_runs(limit: int = 100) -> list:
    """Runs waiting for approval, oldest first; the runner rejects the expired ones first."""
    return pending_approvals(limit)


def recent_runs_of(actor: str, limit: int = 5) -> list:
    query = select(TaskRun).where(TaskRun.actor == actor).order_by(TaskRun.id.desc()).limit(limit)
    return list(console_session().scalars(query))


def approval_expires_at(run):
    return run.created_at + timedelta(hours=current_app.config.get("APPROVAL_TTL_HOURS", 24))


def history(filters: dict, before: int | None, order_id: int | None) -> list:
    """One page of runs (and one more, to tell whether there are older ones), newest first."""
    return run_history(**{name: value for name, value in filters.items() if value}, order_id=order_id,
                       before=before, limit=PAGE_SIZE + 1)


def shown_run(run, spec, data: dict, **texts: str) -> dict:
    """What a run page shows of the run, personal data masked: others read this page, not just the requester.

    The values are masked first, so that the free texts (the result, the error, the reasons, and `texts`
    such as a refusal message) can be masked wherever they repeat one of them.
    """
    masked, personal = masked_run(data, spec)
    params = []
    for name, value in (data.get("params") or {}).items():
        param = spec.param(name) if spec else None
        shown = masked["params"][name]
        params.append((param.label if param else human_column(name), param.shown(shown) if param else shown,
                       shown != value))
    # The diff compares the values as stored, and shows them through the same masks.
    tables = change_tables(data.get("changes") or [], personal, customer=run.customer, currency=currency_of(spec))
    effects = effect_lines(data.get("effects") or [], personal)
    emails = sum(1 for effect in data.get("effects") or []
                 if isinstance(effect, dict) and effect.get("kind") == "email")
    return {
        "customer": masked["customer"], "params": params, "tables": tables, "effects": effects,
        "sentence": change_sentence(tables, emails, done=run.status in ("succeeded", "interrupted")),
        **{name: masked.get(name) or "" for name in RUN_TEXTS},
        **{name: personal.text(text or "") for name, text in texts.items()},
    }


def next_step(run, spec, user, data: dict) -> dict | None:
    """After a successful run on a ticket: the task's reply to the customer, and whether to offer resolving
    the ticket (when this user works tickets and the ticket's state allows it). None when there is no next step."""
    if run.status != "succeeded" or not run.ticket or spec is None:
        return None
    reply = suggested_reply(data, spec)
    resolvable = (user_can(user, WORK_TICKETS) and RESOLVE_ENDPOINT in current_app.view_functions
                  and "resolved" in allowed_outcomes(find_ticket(console_session(), run.ticket)))
    if not reply and not resolvable:
        return None
    return {"reply": reply, "resolvable": resolvable,
            "note": f"Resolved with run #{run.id}: {spec.title}."}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None  # not "²"


def _undo_preview(run, user):
    """(what undoing would change, None) for a lead when the run can be undone now, else (None, why not)."""
    if run.status != "succeeded" or not user_can(user, UNDO_RUNS):
        return None, ""
    try:
        return preview_undo(run.id, user), ""
    except TaskError as exc:
        return None, exc.message


class RunHistoryView(TaskPagesView):
    """Every run, filterable; a page per run with its diff, audit entries and the lead's actions."""

    permission = RUN_TASKS

    def is_accessible(self) -> bool:
        # Developers and auditors read runs without running tasks themselves.
        return super().is_accessible() or user_can(current_user, READ_AUDIT)

    @expose("/")
    def index(self):
        filters = {name: request.args.get(name, "").strip()[:MAX_FILTER] for name in FILTERS}
        filters["customer"] = filters["customer"].lower()
        order_id = _int_arg("order")
        runs = history(filters, _int_arg("before"), order_id)
        more = len(runs) > PAGE_SIZE
        runs = runs[:PAGE_SIZE]
        older = None
        if more:
            args = {key: value for key, value in filters.items() if value}
            if order_id is not None:
                args["order"] = order_id
            older = url_for(".index", before=runs[-1].id, **args)
        tasks = sorted(spec.name for spec in current_app.extensions["task_registry"].all_specs())
        return self.render("tasks/runs.html", runs=runs, filters=filters, order_id=order_id, older=older,
                           statuses=STATUSES, tasks=tasks)

    @expose("/<int:run_id>")
    def run_page(self, run_id: int):
        return self._render_run(_run_or_404(run_id))

    def _render_run(self, run, *, problem: str = "", status: int = 200):
        db = console_session()
        user = _user()
        data = jsonable(run_to_dict(run))
        spec = find_task(run.task)
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "task_run",
                                                           AuditEntry.subject_id == str(run.id))
                                  .order_by(AuditEntry.seq)))
        undone_by = list(db.scalars(select(TaskRun).where(TaskRun.undo_of == run.id).order_by(TaskRun.id)))
        undo_preview, undo_reason = _undo_preview(run, user)
        may_read_audit = user_can(user, READ_AUDIT)
        pending = run.status == "pending_approval"
        own = pending and is_own_run(run, user)
        statuses = entry_statuses(entries)
        step = next_step(run, spec, user, data)
        shown = shown_run(run, spec, data, problem=problem, undo_reason=undo_reason,
                          reply=step["reply"] if step else "")
        return self.render(
            "tasks/run.html", run=run, data=data, spec=spec, tables=shown["tables"], shown=shown,
            entries=[(entry, statuses.get(entry.seq), audit_entry_url(entry.seq) if may_read_audit else None)
                     for entry in entries],
            undone_by=undone_by, action_words=action_words,
            may_decide=pending and user_can(user, APPROVE_RUNS) and not own,
            own_pending=pending and own,
            expires_at=approval_expires_at(run) if pending else None, now=utcnow(),
            undo_preview=undo_preview,
            undo_tables=change_tables(undo_preview.changes, Personal(), customer=run.customer,
                                      currency=currency_of(spec)) if undo_preview else [],
            may_reconcile=run.status == "interrupted" and user_can(user, UNDO_RUNS),
            next_step=step,
        ), status

    def _act(self, run_id: int, permission: str, action):
        """Check the permission, call the runner, then show the run (or the error on the run's page)."""
        run = _run_or_404(run_id)
        if not user_can(_user(), permission):
            return self.forbid()
        try:
            outcome, message = action(run)
        except TaskError as exc:
            console_session().rollback()
            return self._render_run(_run_or_404(run_id), problem=exc.message, status=exc.status)
        flash(message, "success")
        return redirect(url_for(".run_page", run_id=outcome.id), code=303)

    @expose("/<int:run_id>/approve", methods=("POST",))
    def approve(self, run_id: int):
        def act(run):
            done = approve_run(run.id, _user(), request.form.get("reason", ""))
            return done, f"Approved run {done.id}; it {done.status}."

        return self._act(run_id, APPROVE_RUNS, act)

    @expose("/<int:run_id>/reject", methods=("POST",))
    def reject(self, run_id: int):
        def act(run):
            done = reject_run(run.id, _user(), request.form.get("reason", ""))
            return done, f"Rejected run {done.id}. Nothing was changed."

        return self._act(run_id, APPROVE_RUNS, act)

    @expose("/<int:run_id>/undo", methods=("POST",))
    def undo(self, run_id: int):
        def act(run):
            ticket = request.form.get("ticket", "").strip() or run.ticket
            done = undo_run(run.id, _user(), ticket, request.form.get("reason", ""))
            return done, f"Undid run {run.id} with run {done.id} ({done.status})."

        return self._act(run_id, UNDO_RUNS, act)

    @expose("/<int:run_id>/reconcile", methods=("POST",))
    def reconcile(self, run_id: int):
        def act(run):
            settle_as = request.form.get("settle_as") or None
            done = reconcile_run(run.id, _user(), settle_as=settle_as, reason=request.form.get("reason") or None)
            return done, f"Reconciled run {done.id}: it is now {done.status}."

        return self._act(run_id, UNDO_RUNS, act)


class ApprovalQueueView(TaskPagesView):
    """High-risk runs waiting for a second pair of eyes."""

    permission = APPROVE_RUNS

    @expose("/")
    def index(self):
        runs = pending_runs()
        return self.render("tasks/approvals.html",
                           runs=[(run, approval_expires_at(run), _what_it_does(run)) for run in runs],
                           now=utcnow(), me=_user().email)


def _what_it_does(run) -> str:
    """The preview's sentence of a pending run, personal data masked: 'change the refunded of Order 1004 …'."""
    return shown_run(run, find_task(run.task), jsonable(run_to_dict(run)))["sentence"]
