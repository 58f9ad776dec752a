"""The task catalog and the task page: form, preview, confirm. Every step goes through the runner."""
from __future__ import annotations

import re
import uuid

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_admin import expose
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from console.extensions import request_user
from console.permissions import RUN_TASKS
from console.product.money import units_text
from console.tasks.disclosure import preview_personal, shown_preview
from console.tasks.pages import TaskPagesView, by_category, search_tasks
from console.tasks.params import params_to_json
from console.tasks.presenting import (change_sentence, change_tables, currency_of, find_task, headline_risk,
                                      risk_rule, runnable_tasks, shown_params)
from console.tasks.registry import may_run
from console.tasks.runner import RunRequest, TaskError, preview, start_run

CONFIRM_MAX_AGE = 30 * 60  # a preview older than this is shown again rather than confirmed
MAX_QUERY = 200
_REQUEST_KEY = re.compile(r"^[0-9a-f]{32}$")


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="console.tasks.confirm")


def _raw_params(spec, form) -> dict:
    """What the user typed, as strings (booleans as bools); empty boxes are left out so defaults apply."""
    names = {param.name for param in spec.params}
    params = {}
    for field in form:
        if field.name not in names:
            continue
        if isinstance(field, BooleanField):
            params[field.name] = bool(field.data)
            continue
        raw = field.raw_data[0] if field.raw_data else ""
        if raw not in ("", None):
            params[field.name] = raw
    return params


def _form(spec, values: dict | None):
    """The task's form, filled from parameter values as the API takes them (a link's query arguments, a
    signed preview): money arrives in cents and is shown in the currency's units, as the form takes it."""
    form_class = spec.form_class()
    if not values:
        return form_class()
    params = {param.name: param for param in spec.params}
    data = MultiDict([(key, _typed_back(params[key], value)) for key, value in values.items() if key in params])
    return form_class(formdata=data) if data else form_class()


def _typed_back(param, value):
    """A value as the form's box takes it: cents (2600, "2600") become units ("26.00"); the rest as it is."""
    if param.kind == "money" and str(value).isascii() and str(value).isdigit() and len(str(value)) < 12:
        return units_text(int(value), param.currency)
    return value


def _user():
    return request_user()


class TaskCatalogView(TaskPagesView):
    """The tasks this user may run, by category, and a page per task."""

    permission = RUN_TASKS

    def _handle_view(self, view_name, **kwargs):
        # Flask-Admin passes the method name positionally and the URL values as keywords; the task page's
        # URL value is `name`, so the stock signature (name, **kwargs) would receive it twice.
        if not self.is_accessible():
            return self.forbid()
        return None

    @expose("/")
    def index(self):
        query = request.args.get("q", "")[:MAX_QUERY]
        specs = runnable_tasks(_user())
        shown = search_tasks(specs, query)
        return self.render("tasks/catalog.html", groups=by_category(shown), query=query, shown=len(shown),
                           total=len(specs))

    @expose("/<name>/", methods=("GET", "POST"))
    def task_form(self, name: str):
        spec = find_task(name)
        if spec is None:
            abort(404, description=f"There is no task called {name!r}. It may have been renamed or turned off.")
        if not may_run(_user(), spec):
            return self.forbid()
        if request.method == "GET":
            ticket = request.args.get("ticket") or session.get("ticket_ref", "")
            return self._render_form(spec, _form(spec, request.args.to_dict()), ticket=ticket,
                                     reason=request.args.get("reason", ""))
        action = request.form.get("action", "preview")
        if action == "preview":
            form = spec.form_class()(formdata=request.form)
            return self._preview(spec, form, _raw_params(spec, form), request.form.get("ticket", ""),
                                 request.form.get("reason", ""), key=_preview_key(request.form.get("request_key")))
        signed = self._load_signed(spec)
        if signed is None:
            return self._render_form(spec, _form(spec, None), ticket=request.form.get("ticket", ""),
                                     reason="", status=400,
                                     problem="This preview expired or was altered. Fill in the form and preview "
                                             "again.")
        if action == "edit":
            return self._render_form(spec, _form(spec, signed["params"]), ticket=signed["ticket"],
                                     reason=signed["reason"])
        if action == "confirm":
            return self._confirm(spec, signed)
        abort(400, description="Unknown action; use the Preview or Confirm button.")

    def _render_form(self, spec, form, *, ticket="", reason="", errors=None, problem="", status=200):
        # Each form shown is one request: posting it again (a reload) replays a recorded refusal.
        return self.render("tasks/form.html", spec=spec, form=form, ticket=ticket, reason=reason,
                           errors=errors or {}, problem=problem, risk=headline_risk(spec),
                           risk_rule=risk_rule(spec), request_key=uuid.uuid4().hex), status

    def _request(self, spec, params, ticket, reason, **extra):
        return RunRequest(task=spec.name, params=params, ticket=ticket, reason=reason, actor=_user(),
                          source="web", **extra)

    def _preview(self, spec, form, params, ticket, reason, *, notice="", key=None, typed=True):
        try:
            # What a person typed has money in the currency's units ("250.50"); a signed preview holds cents.
            result = preview(self._request(spec, params, ticket, reason, idempotency_key=key, money_in_units=typed))
        except TaskError as exc:
            return self._task_error(spec, form, exc, ticket, reason)
        secrets = [param for param in spec.params if param.is_secret]
        # The confirmation is signed, not encrypted: secrets stay out of it and are typed again to confirm.
        # It holds the values as the runner read them (money in cents), not as typed.
        kept = {name: value for name, value in params_to_json(spec, result.params).items()
                if name not in {param.name for param in secrets}}
        token = _signer().dumps({
            "task": spec.name, "user": _user().id, "params": kept, "ticket": ticket, "reason": reason,
            "hash": result.preview_hash, "key": uuid.uuid4().hex,
        })
        # The person who typed the values sees them whole here; what the task read from the shop stays masked.
        personal = preview_personal(spec, result.params)
        tables = change_tables(result.changes, personal, customer=_customer_of(spec, result.params),
                               currency=currency_of(spec))
        emails = sum(1 for line in result.effects if str(line).startswith("email"))
        return self.render("tasks/preview.html", spec=spec, preview=shown_preview(spec, result, personal),
                           tables=tables,
                           sentence=change_sentence(tables, emails, done=False),
                           ticket=ticket, reason=reason, token=token, notice=notice, secrets=secrets,
                           shown_params=shown_params(spec, result.params))

    def _task_error(self, spec, form, exc, ticket, reason):
        if exc.status == 403:
            return self.forbid()
        if exc.status == 404:
            abort(404, description=exc.message)
        fields = exc.fields or {}
        recorded = f" (recorded as run {exc.run.id})" if exc.run is not None else ""
        return self._render_form(spec, form, ticket=ticket, reason=reason, errors=fields,
                                 problem=exc.message + recorded, status=exc.status)

    def _load_signed(self, spec) -> dict | None:
        try:
            data = _signer().loads(request.form.get("confirmation", ""), max_age=CONFIRM_MAX_AGE)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict) or data.get("task") != spec.name or data.get("user") != _user().id:
            return None
        return data

    def _confirm(self, spec, signed):
        params = dict(signed["params"])
        for param in spec.params:
            if param.is_secret and request.form.get(param.name):
                params[param.name] = request.form[param.name]
        signed = dict(signed, params=params)
        request_ = self._request(spec, params, signed["ticket"], signed["reason"],
                                 idempotency_key=f"web-{signed['key']}", expected_preview_hash=signed["hash"])
        try:
            run = start_run(request_)
        except TaskError as exc:
            if exc.run is not None:
                flash(f"Run {exc.run.id} was {exc.run.status}: {exc.message}", "error")
                return redirect(url_for("runs.run_page", run_id=exc.run.id), code=303)
            if exc.status == 409:
                form = _form(spec, signed["params"])
                notice = f"{exc.message}. This is the preview with the data as it is now; check it and confirm again."
                return self._preview(spec, form, signed["params"], signed["ticket"], signed["reason"],
                                     key=f"web-{signed['key']}", typed=False, notice=notice)
            return self._task_error(spec, _form(spec, signed["params"]), exc, signed["ticket"], signed["reason"])
        if run.status == "pending_approval":
            flash(f"Run {run.id} is waiting for a lead's approval. It changes nothing until it is approved.", "info")
        else:
            flash(f"Run {run.id} {run.status}.", "success")  # the page says what it did, personal data masked
        return redirect(url_for("runs.run_page", run_id=run.id), code=303)


def _preview_key(raw) -> str | None:
    """The idempotency key of a previewed form: its request key, when it is one the form was given."""
    return f"web-preview-{raw}" if isinstance(raw, str) and _REQUEST_KEY.match(raw) else None


def _customer_of(spec, params: dict) -> str:
    """The customer email among the typed values, to name the customer row of the preview."""
    return next((str(params[p.name]) for p in spec.params if p.kind == "email" and params.get(p.name)), "")
