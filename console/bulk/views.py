"""The bulk pages: paste or upload a CSV (or start from rows selected on a record list), preview the whole,
confirm; follow a bulk live with its items; decide, pause, resume and cancel.

Every action goes through console.bulk.service, as the API's do; the page only shows and asks.
The confirmation carries the previewed items' hash: if the pasted list no longer hashes the same,
nothing is queued and the preview is shown again.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask_admin import expose
from sqlalchemy import select

from console.admin.base import ConsoleView, deny
from console.extensions import request_user
from console.permissions import APPROVE_RUNS, RUN_TASKS, user_can
from console.bulk.models import ITEM_STATUSES, Bulk
from console.bulk.planning import preview_plan
from console.bulk.selection import selected_csv
from console.bulk.service import (amount_text, approve_bulk, bulk_to_dict, cancel_bulk, expire_stale_bulks, get_bulk,
                                  item_spec, item_to_dict, list_items, may_control, pause_bulk, pending_bulks,
                                  plan_csv, reject_bulk, request_bulk_csv, resume_bulk)
from console.db import console_session
from console.tasks.checks import TaskError
from console.tasks.presenting import runnable_tasks

MAX_UPLOAD = 1024 * 1024
ITEMS_PAGE = 50


def _user():
    return request_user()


def _csv_text() -> str:
    """The CSV of the form: the uploaded file if any, else the pasted text."""
    upload = request.files.get("csv_file")
    if upload is not None and upload.filename:
        return upload.read(MAX_UPLOAD).decode("utf-8-sig", errors="replace")
    return request.form.get("csv", "")


class BulkView(ConsoleView):
    """Bulk runs: the form, the preview, each bulk's page, and the bulks waiting for a decision."""

    permission = RUN_TASKS

    def _index(self, *, problem: str = "", fields: dict | None = None, status: int = 200, form=None):
        expire_stale_bulks()  # the requester's list shows a bulk that expired as such
        mine = list(console_session().scalars(select(Bulk).where(Bulk.actor == _user().email)
                                              .order_by(Bulk.id.desc()).limit(20)))
        waiting = pending_bulks() if user_can(_user(), APPROVE_RUNS) else []
        return self.render("bulk/index.html", tasks=runnable_tasks(_user()), mine=mine, waiting=waiting,
                           problem=problem, fields=fields or {}, form=request.form if form is None else form), status

    @expose("/")
    def index(self):
        """The form; with `task` and `key`s (rows selected on a record list), filled in with those records."""
        if "task" not in request.args and "key" not in request.args:
            return self._index()
        try:
            task, csv = selected_csv(request.args.get("task", ""), request.args.getlist("key"), _user())
        except TaskError as exc:
            return self._index(problem=exc.message, fields=exc.fields, status=exc.status,
                               form={"task": request.args.get("task", "")})
        ticket = request.args.get("ticket") or session.get("ticket_ref") or ""
        return self._index(form={"task": task, "csv": csv, "ticket": ticket})

    def _form(self):
        return (request.form.get("task", ""), _csv_text(), request.form.get("ticket", ""),
                request.form.get("reason", ""))

    @expose("/preview", methods=("POST",))
    def preview(self):
        task, text, ticket, reason = self._form()
        try:
            plan = plan_csv(task, text, ticket, reason, _user(), "web")
            shown = preview_plan(plan, _user())
        except TaskError as exc:
            return self._index(problem=exc.message, fields=exc.fields, status=exc.status)
        return self.render("bulk/preview.html", plan=plan, preview=shown, csv=text, task=task, ticket=ticket,
                           reason=reason)

    @expose("/create", methods=("POST",))
    def create(self):
        task, text, ticket, reason = self._form()
        try:
            plan = plan_csv(task, text, ticket, reason, _user(), "web")
            if plan.items_hash != request.form.get("items_hash"):
                return self._index(problem="The list is not the one you previewed; preview it again.", status=409)
            bulk = request_bulk_csv(task, text, ticket, reason, _user(), source="web")
        except TaskError as exc:
            return self._index(problem=exc.message, fields=exc.fields, status=exc.status)
        return redirect(url_for(".bulk_page", bulk_id=bulk.id))

    def _bulk(self, bulk_id: int):
        try:
            return get_bulk(bulk_id)
        except TaskError:
            abort(404, description=f"There is no bulk {bulk_id}.")

    @expose("/<int:bulk_id>")
    def bulk_page(self, bulk_id: int):
        bulk = self._bulk(bulk_id)
        status, after = request.args.get("status", ""), request.args.get("after", "")
        problems = []  # a bad filter still shows the page, with all items from the first
        if status and status not in ITEM_STATUSES:
            problems.append("status: not an item status; all items are shown")
            status = ""
        if after and not (after.isascii() and after.isdigit() and int(after) < bulk.total):
            problems.append(f"after: not an item index (0 to {bulk.total - 1}); the first items are shown")
            after = ""
        found = list_items(bulk, int(after) if after else None, ITEMS_PAGE + 1, status or None)
        spec = item_spec(bulk)
        items = [item_to_dict(item, spec) for item in found[:ITEMS_PAGE]]
        more = items[-1]["index"] if len(found) > ITEMS_PAGE else None
        return self.render("bulk/bulk.html", bulk=bulk, shown=bulk_to_dict(bulk), amount_text=amount_text(bulk),
                           may_control=may_control(bulk, _user()),
                           may_decide=user_can(_user(), APPROVE_RUNS) and bulk.actor_id != _user().id,
                           items=items, item_status=status, after=after, more=more, page_size=ITEMS_PAGE,
                           problem="; ".join(problems)), 400 if problems else 200

    def _act(self, bulk_id: int, action, done: str, permission: str = RUN_TASKS):
        if not user_can(_user(), permission):
            return deny(self)
        self._bulk(bulk_id)
        try:
            action(bulk_id, _user(), request.form.get("reason", ""))
            flash(done, "success")
        except TaskError as exc:
            flash(exc.message, "error")
        return redirect(url_for(".bulk_page", bulk_id=bulk_id))

    @expose("/<int:bulk_id>/cancel", methods=("POST",))
    def cancel(self, bulk_id: int):
        return self._act(bulk_id, cancel_bulk, "Cancelled: items not started will not run.")

    @expose("/<int:bulk_id>/pause", methods=("POST",))
    def pause(self, bulk_id: int):
        return self._act(bulk_id, pause_bulk, "Paused: no new item starts until you resume.")

    @expose("/<int:bulk_id>/resume", methods=("POST",))
    def resume(self, bulk_id: int):
        return self._act(bulk_id, resume_bulk, "Resumed: the bulk is queued again.")

    @expose("/<int:bulk_id>/approve", methods=("POST",))
    def approve(self, bulk_id: int):
        return self._act(bulk_id, approve_bulk, "Approved: the bulk is queued.", APPROVE_RUNS)

    @expose("/<int:bulk_id>/reject", methods=("POST",))
    def reject(self, bulk_id: int):
        return self._act(bulk_id, reject_bulk, "Rejected: none of its items will run.", APPROVE_RUNS)


def register_views(app, admin) -> None:
    admin.add_view(BulkView(name="Bulk runs", category="Tasks", endpoint="bulk", url="/admin/bulk"))
