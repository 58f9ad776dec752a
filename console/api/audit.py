"""GET /api/v1/audit: the trail in seq order, for shipping it to another store."""
from __future__ import annotations

from flask import jsonify

from console.api.base import bp, query_int, require
from console.api.describe import Query, documented
from console.audit.browse import MAX_SEQ, entries_after, entry_record
from console.db import console_session
from console.permissions import READ_AUDIT

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@bp.get("/audit")
@require(READ_AUDIT)
@documented("Audit entries after a seq, in seq order", answers={200: "AuditEntries"}, query=(
    Query("after", {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "default": 0}, "the last seq already read"),
    Query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
))
def audit_entries():
    """Entries after seq `after` (default 0), at most `limit` (default 100, at most 1000), in seq order."""
    after = query_int("after", 0, 0, MAX_SEQ, empty_is_default=False)
    limit = query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, empty_is_default=False)
    return jsonify({"entries": [entry_record(entry) for entry in entries_after(console_session(), after, limit)]})
