"""THE authorization policy, written from the agreed role table, independently of the code.

Every (endpoint, method) that the app serves must appear here; test_matrix.py walks
app.url_map and fails on any endpoint missing from this table, so nothing ships unreviewed.
A value is the set of roles that may use the endpoint; everyone else gets 403, and anonymous
or disabled users are sent to log in (401 on the API).
"""
from __future__ import annotations

AGENT, LEAD, PO, DEV, ADMIN = "agent", "lead", "product_owner", "developer", "admin"
STAFF = frozenset({AGENT, LEAD, PO, DEV, ADMIN})
RUNNERS = frozenset({AGENT, LEAD, ADMIN})  # run and request tasks
APPROVERS = frozenset({LEAD, ADMIN})  # approve, reject, undo, reconcile
AUDIT_READERS = frozenset({LEAD, DEV, ADMIN})
PII_REVEALERS = frozenset({AGENT, LEAD, DEV, ADMIN})  # never the product owner
TICKET_WORKERS = frozenset({AGENT, LEAD, ADMIN})
RUN_READERS = RUNNERS | {DEV}  # developers read runs as they read the audit trail
TICKET_READERS = TICKET_WORKERS | {DEV}  # developers open the escalated tickets routed to them
ON_DUTY_READERS = frozenset({LEAD, PO, DEV, ADMIN})  # who is on duty and what they carry
DEV_TIME = frozenset({DEV, ADMIN})
SPRINT_KEEPERS = frozenset({PO, ADMIN})  # record the team's sprints
STATS_READERS = frozenset({LEAD, PO, DEV, ADMIN})  # the whole team's numbers (agents see their own team's)
ADMINS = frozenset({ADMIN})
PUBLIC = "public"  # no login needed

POLICY: dict[tuple[str, str], frozenset | str] = {
    # app-wide
    ("web.healthz", "GET"): PUBLIC,
    ("web.favicon", "GET"): PUBLIC,
    ("metrics", "GET"): ADMINS,  # scraped with a bearer token, like the API
    ("web.root", "GET"): PUBLIC,  # a redirect to the home page or to /login
    ("static", "GET"): PUBLIC,
    ("admin.static", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): PUBLIC,
    ("sso.start", "GET"): PUBLIC,  # 404 unless CONSOLE_OIDC_ISSUER is set
    ("sso.callback", "GET"): PUBLIC,
    ("admin.index", "GET"): STAFF,
    # staff users and API tokens: admins only, every Flask-Admin route included
    **{(f"{view}.{route}", method): ADMINS
       for view in ("staff_users", "api_tokens")
       for route, methods in (("index_view", ("GET",)), ("action_view", ("POST",)), ("ajax_lookup", ("GET",)),
                              ("ajax_update", ("POST",)), ("delete_view", ("POST",)), ("details_view", ("GET",)),
                              ("edit_view", ("GET", "POST")), ("export", ("GET",)), ("create_view", ("GET", "POST")))
       for method in methods},
    ("api_tokens.issue", "GET"): ADMINS,
    ("api_tokens.issue", "POST"): ADMINS,
    # lookup: the record pages of every declared record
    ("records.index", "GET"): STAFF,
    ("records.find", "GET"): STAFF,
    ("records.listing", "GET"): STAFF,
    ("records.detail", "GET"): STAFF,
    ("records.reveal", "POST"): PII_REVEALERS,
    ("records.hide", "POST"): STAFF,  # masking again is harmless
    ("records.run_task", "GET"): RUNNERS,
    # the pages' old addresses (/admin/customers/...): redirects that show nothing; the page checks access
    ("record_urls.old_list", "GET"): PUBLIC,
    ("record_urls.old_detail", "GET"): PUBLIC,
    # tasks and runs
    ("tasks.index", "GET"): RUNNERS,
    ("tasks.task_form", "GET"): RUNNERS,
    ("tasks.task_form", "POST"): RUNNERS,
    ("runs.index", "GET"): RUN_READERS,
    ("runs.run_page", "GET"): RUN_READERS,
    ("runs.approve", "POST"): APPROVERS,
    ("runs.reject", "POST"): APPROVERS,
    ("runs.undo", "POST"): APPROVERS,
    ("runs.reconcile", "POST"): APPROVERS,
    ("approvals.index", "GET"): APPROVERS,
    # audit
    ("audit.index", "GET"): AUDIT_READERS,
    ("audit.entry", "GET"): AUDIT_READERS,
    ("audit.export", "GET"): AUDIT_READERS,
    ("audit.verify", "POST"): ADMINS,
    # runbooks
    ("runbooks.index", "GET"): STAFF,
    ("runbooks.page", "GET"): STAFF,
    ("runbooks.tick", "POST"): TICKET_WORKERS,
    ("runbooks.count_view", "POST"): TICKET_WORKERS,
    # tickets and deflection
    ("tickets.index", "GET"): TICKET_READERS,
    ("tickets.ticket_page", "GET"): TICKET_READERS,
    ("tickets.start", "POST"): TICKET_WORKERS,
    ("tickets.stop", "POST"): TICKET_READERS,
    ("tickets.resolve", "POST"): TICKET_WORKERS,
    ("tickets.escalate", "POST"): TICKET_WORKERS,
    ("tickets.reopen", "POST"): TICKET_WORKERS,
    ("tickets.log_time", "POST"): DEV_TIME,
    ("tickets.action_done", "POST"): DEV_TIME,
    ("on_duty.index", "GET"): ON_DUTY_READERS,
    ("deflection.index", "GET"): STAFF,
    ("deflection.csv", "GET"): STAFF,
    ("deflection.record_sprint", "POST"): SPRINT_KEEPERS,
    # the API's reference page: every staff member (integrators and developers read it)
    ("api_reference.index", "GET"): STAFF,
    # JSON API
    ("api.list_tasks", "GET"): STAFF,  # lists only what the caller may run (empty for PO and developers)
    ("api.get_task", "GET"): RUNNERS,
    ("api.preview_task", "POST"): RUNNERS,
    ("api.create_run", "POST"): RUNNERS,
    ("api.list_runs", "GET"): RUN_READERS,
    ("api.get_run", "GET"): RUN_READERS,
    ("api.approve", "POST"): APPROVERS,
    ("api.reject", "POST"): APPROVERS,
    ("api.undo", "POST"): APPROVERS,
    ("api.reconcile", "POST"): APPROVERS,
    ("api.audit_entries", "GET"): AUDIT_READERS,
    ("api.list_runbooks", "GET"): STAFF,
    ("api.get_runbook", "GET"): STAFF,
    ("api.deflection_stats", "GET"): STAFF,
    ("api.impact_stats", "GET"): STAFF,
    ("api.opportunity_stats", "GET"): STAFF,
    ("api.support_tax_stats", "GET"): STAFF,
    ("api.tool_health_stats", "GET"): STAFF,
    ("api.list_sprints", "GET"): STATS_READERS,
    ("api.record_sprint", "POST"): SPRINT_KEEPERS,
    ("api.get_ticket", "GET"): TICKET_READERS,
    ("api.list_tickets", "GET"): TICKET_READERS,
    ("api.record_ticket_outcome", "POST"): TICKET_WORKERS,
    ("api.log_ticket_dev_time", "POST"): DEV_TIME,
    ("api.openapi_json", "GET"): STAFF,  # the API's description: any valid token
    ("api.list_records", "GET"): STAFF,
    ("api.search_records", "GET"): STAFF,
    ("api.get_record", "GET"): STAFF,  # personal data masked for every role
    ("api.reveal_record", "POST"): PII_REVEALERS,
    # bulk runs
    ("bulk.index", "GET"): RUNNERS,
    ("bulk.preview", "POST"): RUNNERS,
    ("bulk.create", "POST"): RUNNERS,
    ("bulk.bulk_page", "GET"): RUNNERS,
    ("bulk.cancel", "POST"): RUNNERS,
    ("bulk.pause", "POST"): RUNNERS,
    ("bulk.resume", "POST"): RUNNERS,
    ("bulk.approve", "POST"): APPROVERS,
    ("bulk.reject", "POST"): APPROVERS,
    ("api.create_bulk", "POST"): RUNNERS,
    ("api.read_bulk", "GET"): RUN_READERS,
    ("api.read_bulk_items", "GET"): RUN_READERS,
    ("api.bulk_approve", "POST"): APPROVERS,
    ("api.bulk_reject", "POST"): APPROVERS,
    ("api.bulk_cancel", "POST"): RUNNERS,  # the requester, a lead or an admin
    ("api.bulk_pause", "POST"): RUNNERS,  # the requester, a lead or an admin
    ("api.bulk_resume", "POST"): RUNNERS,  # the requester, a lead or an admin
}
