"""Runbook gaps: searches that found nothing, recorded for the product owner."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from console.db import begin_writing, utcnow
from console.runbooks.models import MAX_QUERY_LENGTH, RunbookSearchMiss
from console.runbooks.search import EMAIL_PATTERN, terms

# A reload or a second click on "Search" is the same gap, not a new one.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class SearchGap:
    """One missing runbook, as agents searched for it."""

    terms: str
    example: str
    searches: int
    last_searched: datetime


def gap_key(query: str) -> str:
    """Reduce a query to its sorted search terms, so wording variants count as one gap.

    Email addresses and numbers (order ids) are left out: they name a customer, not a gap.
    """
    found = {term for term in terms(EMAIL_PATTERN.sub(" ", query)) if not term.isdigit()}
    return " ".join(sorted(found))[:MAX_QUERY_LENGTH]


def record_search_miss(session: Session, query: str, *, actor: str = "", ticket: str = "") -> RunbookSearchMiss | None:
    """Record a search that found nothing (flushes, no commit); None when it is noise or a repeat."""
    key = gap_key(str(query))
    # The product owner reads the gaps and must never see a customer's address.
    query = " ".join(EMAIL_PATTERN.sub("[email]", str(query)).split())[:MAX_QUERY_LENGTH]
    if not key:
        return None  # punctuation or stop words only: nothing a runbook could answer
    now = utcnow()
    repeat = session.scalar(
        select(RunbookSearchMiss.id)
        .where(RunbookSearchMiss.terms == key, RunbookSearchMiss.actor == actor,
               RunbookSearchMiss.created_at >= now - REPEAT_WINDOW)
        .limit(1)
    )
    if repeat is not None:
        return None
    miss = RunbookSearchMiss(query=query, terms=key, actor=actor, ticket=ticket[:120], created_at=now)
    session.add(miss)
    session.flush()
    return miss


def note_search_miss(session: Session, query: str, *, actor: str, ticket: str = "") -> bool:
    """Record and commit a search that found nothing; a refusing database is logged, never shown."""
    try:
        begin_writing(session)
        recorded = record_search_miss(session, query, actor=actor, ticket=ticket) is not None
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not record a runbook search miss")
        return False
    return recorded


def search_gaps(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                limit: int = 50) -> list[SearchGap]:
    """The most searched-for missing runbooks in a period, most searches first."""
    statement = select(
        RunbookSearchMiss.terms,
        func.min(RunbookSearchMiss.query),
        func.count(RunbookSearchMiss.id),
        func.max(RunbookSearchMiss.created_at),
    ).group_by(RunbookSearchMiss.terms)
    if since is not None:
        statement = statement.where(RunbookSearchMiss.created_at >= since)
    if until is not None:
        statement = statement.where(RunbookSearchMiss.created_at < until)
    statement = statement.order_by(func.count(RunbookSearchMiss.id).desc(), RunbookSearchMiss.terms).limit(limit)
    return [SearchGap(key, example, count, last) for key, example, count, last in session.execute(statement)]
