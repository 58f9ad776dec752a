"""The read-only audit trail in Flask-Admin: filtered keyset pages, one entry with its diff, CSV export.

There is no create, edit, delete or bulk action here at all, so there is no endpoint to forge
a POST against; the database triggers refuse changes underneath as well.
"""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, request, stream_with_context, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from console.admin.base import ConsoleView, deny
from console.audit import browse, diff, rehash
from console.audit.chain import record_event
from console.audit.checkpoints import latest_checkpoint, policy_from_config
from console.audit.models import GENESIS, AuditEntry, AuditHead
from console.audit.verify import latest_verification, record_verification, verify_trail
from console.db import begin_writing, console_session, databases, utcnow
from console.formatting import Personal
from console.permissions import READ_AUDIT, VERIFY_AUDIT, user_can

# Suggestions for the filter fields; any other value can be typed.
OUTCOMES = ("succeeded", "failed", "refused", "rejected", "pending_approval", "approved", "interrupted")
COMMON_ACTIONS = ("login", "login.failed", "logout", "user.create", "user.role_change", "user.disable", "user.enable",
                  "user.email_change", "user.name_change", "user.team_change", "user.password_change",
                  "token.create", "token.revoke", "task.intent", "task.outcome", "task.request_approval",
                  "run.approve", "run.reject", "run.expire", "task.reconcile", "pii.reveal", "pii.search",
                  "ticket.dev_time", "audit.export")


class AuditTrailView(ConsoleView):
    permission = READ_AUDIT

    def _render_list(self, flt, page, error=None, status=200):
        return self.render("audit/list.html", flt=flt, page=page, rows=self._rows(page.entries), error=error,
                           outcomes=OUTCOMES, actions=COMMON_ACTIONS, action_words=browse.action_words,
                           can_verify=user_can(current_user, VERIFY_AUDIT)), status

    @expose("/")
    def index(self):
        try:
            flt = browse.parse_filter(request.args)
            before = browse.parse_seq(request.args, "before")
            after = browse.parse_seq(request.args, "after")
            at = browse.parse_seq(request.args, "at")
        except browse.FilterError as exc:
            return self._render_list(browse.TrailFilter(), browse.Page([]), error=exc.in_words(), status=400)
        if at is not None:
            before = min(at + 1, browse.MAX_SEQ)
        page = browse.page(console_session(), flt, before=before, after=after)
        return self._render_list(flt, page)

    def _rows(self, entries: list) -> list[dict]:
        """Each entry as the list shows it: its status in words, its customer and reason masked."""
        shown = entry_statuses(entries)
        rows = []
        for entry in entries:
            personal = Personal()
            customer = personal.mask("email", entry.customer)  # an entry's customer is an email, whatever the product
            rows.append({"entry": entry, "status": shown.get(entry.seq), "customer": customer,
                         "reason": personal.text(entry.reason or "")})
        return rows

    @expose("/entry/<int:seq>")
    def entry(self, seq: int):
        session = console_session()
        entry = session.get(AuditEntry, seq) if seq <= browse.MAX_SEQ else None
        if entry is None:
            return self.render("audit/missing.html", seq=seq), 404
        # Masked for display only: the stored entry, and so its hash, stay as written.
        personal = Personal()
        customer = personal.mask("email", entry.customer)
        details = personal.details(browse.parsed_details(entry), param_kinds=_param_kinds(entry.task))
        previous = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq - 1)) if seq > 1 else GENESIS
        integrity = {
            "content": rehash.python_matches(entry),
            "linked": previous == entry.prev_hash,
        }
        has_next = session.scalar(select(AuditEntry.seq).where(AuditEntry.seq == seq + 1)) is not None
        changes, expected = diff.changes_of(details), False
        if not changes and isinstance(details, dict) and isinstance(details.get("expected"), dict):
            # An intent: what the run was about to change, as a table rather than buried in the JSON.
            changes, expected = diff.changes_of(details["expected"]), True
            details = {name: value for name, value in details.items() if name != "expected"}
        return self.render("audit/entry.html", entry=entry, status=entry_statuses([entry]).get(entry.seq),
                           customer=customer, reason=personal.text(entry.reason or ""), changes=changes,
                           expected=expected, other=diff.other_details(details), integrity=integrity,
                           has_next=has_next, action_words=browse.action_words)

    @expose("/export.csv")
    def export(self):
        try:
            flt = browse.parse_filter(request.args)
        except browse.FilterError as exc:
            return self._render_list(browse.TrailFilter(), browse.Page([]), error=exc.in_words(), status=400)
        session = console_session()
        begin_writing(session)  # a GET that writes: on SQLite, the lock before the entry, as a search's
        # Recorded and committed before the first byte leaves: no audit, no export (fail closed).
        record_event(session, actor=current_user.email, action="audit.export", subject_type="audit",
                     details={"format": "csv", "filters": flt.describe()})
        filename = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
        return Response(stream_with_context(browse.export_csv(session, flt)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @expose("/verify", methods=["POST"])
    def verify(self):
        if not user_can(current_user, VERIFY_AUDIT):
            return deny(self)
        result = run_verification(source=current_user.email)
        flash(result.summary, "success" if result.ok else "error")
        return redirect(url_for("admin.index"))


def entry_statuses(entries: list) -> dict:
    """Each entry's status as pages show it (browse.statuses), with the runner's reconcile window."""
    window = current_app.config["RECONCILE_AFTER_SECONDS"]  # set and checked by the tasks domain at start-up
    return browse.statuses(console_session(), entries, now=utcnow(), window_seconds=window)


def _param_kinds(task: str) -> dict:
    """The parameter types of the entry's task, when it still exists: an email parameter is masked as one."""
    spec = current_app.extensions["task_registry"].get(task) if task else None
    return {param.name: param.kind for param in spec.params} if spec else {}


def run_verification(*, source: str):
    """Verify the trail from a fresh snapshot and keep the result for the home page."""
    app = current_app._get_current_object()
    result = verify_trail(databases(app).console_engine, app.config["CONSOLE_AUDIT_KEY"],
                          policy=policy_from_config(app.config))
    session = console_session()
    record_verification(session, result, source=source)
    session.commit()
    return result


def home_context(user) -> dict:
    """What the home page shows about the trail's checks."""
    session = console_session()
    verification = latest_verification(session)
    head = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0
    checked_age = utcnow() - verification.checked_at if verification else None
    return {
        "verification": verification,
        "checkpoint": latest_checkpoint(session),
        "head_seq": head,
        "stale": checked_age is None or checked_age.total_seconds() > 26 * 3600,
        "can_verify": user_can(user, VERIFY_AUDIT),
        "warnings": [line for line in (verification.warnings if verification else "").splitlines() if line],
    }
