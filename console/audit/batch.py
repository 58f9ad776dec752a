"""Appending many entries to the hash chain at once: one lock of the head, one INSERT, one move of the tip.

Each entry is chained and hashed exactly as `console.audit.chain.append` does one (the same canonical
details, the same hash, a signed checkpoint wherever the policy makes one due), so the trail, `audit
verify` and the metrics cannot tell a batch from the same entries appended one by one. What it saves is
the round trips: a bulk's chunk of runs writes its intents, or its outcomes, in one statement.
"""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from console.audit.chain import PENDING_ENTRIES, append, clean_field, canonical_details, entry_connection, entry_hash
from console.audit.checkpoints import add_checkpoint, is_due, policy_for
from console.audit.models import AuditEntry, AuditHead
from console.db import utcnow

_HEAD = AuditHead.__table__
_ENTRIES = AuditEntry.__table__
_LIMITS = {"actor": 254, "action": 60, "subject_type": 40, "subject_id": 120, "ticket": 120, "reason": 4000,
           "task": 100, "customer": 254, "outcome": 30}


def _bump(count: int):
    return (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + count)
            .returning(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.checkpoint_seq, _HEAD.c.checkpoint_at))


def append_many(session: Session, entries: list[dict]) -> list[AuditEntry]:
    """Append the entries (each the keyword arguments of `append`) in order, in the session's transaction;
    the caller commits. Detached records of what was written, as `append` returns."""
    if not entries:
        return []
    request_id = g.request_id if has_request_context() and "request_id" in g else None
    # Before the lock, as append does: bad details must not hold it.
    texts = [canonical_details({**(entry.get("details") or {}), "request_id": request_id} if request_id
                               else entry.get("details")) for entry in entries]
    conn = entry_connection(session)
    head = conn.execute(_bump(len(entries))).first()
    if head is None:  # an empty trail: the first append makes the head row, the rest follow it
        return [append(session, **entries[0]), *append_many(session, entries[1:])]
    policy = policy_for(session)
    checkpoint_seq, checkpoint_at = head.checkpoint_seq, head.checkpoint_at
    prev_hash, rows, signed = head.hash, [], []
    for seq, entry, details in zip(range(head.seq - len(entries) + 1, head.seq + 1), entries, texts):
        fields = {"seq": seq, "created_at": utcnow(),  # taken under the lock, as append does
                  **{name: clean_field(entry.get(name, ""), limit) for name, limit in _LIMITS.items()},
                  "details": details}
        chain_hash = entry_hash(fields, prev_hash)
        rows.append({**fields, "prev_hash": prev_hash, "hash": chain_hash})
        if policy is not None and is_due(policy, seq, fields["created_at"], checkpoint_seq, checkpoint_at):
            signed.append((seq, chain_hash, fields["created_at"]))
            checkpoint_seq, checkpoint_at = seq, fields["created_at"]
        prev_hash = chain_hash
    conn.execute(insert(_ENTRIES), rows)
    tip = {"hash": prev_hash}
    if signed:
        tip.update(checkpoint_seq=checkpoint_seq, checkpoint_at=checkpoint_at)
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(**tip))
    for seq, chain_hash, created_at in signed:
        add_checkpoint(conn, policy.key, seq, chain_hash, created_at, note_on_head=False)
    session.info.setdefault(PENDING_ENTRIES, []).extend(
        (row["action"], row["outcome"], row["subject_type"], row["task"]) for row in rows)
    return [AuditEntry(**row) for row in rows]
