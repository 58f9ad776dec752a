"""Runbook gaps: searches that found nothing, recorded for the product owner.

Agents paste what the customer wrote, so a query may name the customer. Before a query is
stored (and reaches the product owner's panel and CSV), `scrub` replaces:

- email addresses with [email];
- phone numbers with [phone]: 7 or more digits in one run, which may be split by spaces,
  dashes, dots, slashes or parentheses and start with +. Shorter numbers stay: order numbers
  (up to 6 digits, "order 1004"), quantities ("2 items"). A longer order number, two numbers
  typed side by side ("1001 1002") or a date in digits reads as a phone number and goes too;
- street addresses with [address]: a house number and a street word ("12 Baker Street",
  "221B Baker St"), a capitalised name, street word and number ("Baker Street 12"), or a
  German-style street name and its number ("Hauptstr. 5", "Bahnhofstraße 12a"). A street
  named without a house number is not recognised.
"""
from __future__ import annotations

import re
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

PHONE_PATTERN = re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d(?:[ \-()./]{0,2}\d){6,}\)?")
_HOUSE = r"\d{1,5}[a-z]?"
# Only unambiguous street words: "way", "place" or "court" after a number are too often something else.
_STREET = r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|boulevard|blvd|terrace|crescent|highway|hwy|parkway)"
_COMPOUND_STREET = r"[^\W\d_]*(?:stra(?:ss|\u00df)e|str|gasse|weg|platz|allee)"
ADDRESS_PATTERN = re.compile(
    rf"\b{_HOUSE}\b,?\s+(?:[^\W\d_][\w'.-]*\s+){{0,3}}{_STREET}\b\.?"  # 12 Baker Street
    rf"|\b(?-i:[A-Z\u00c0-\u00de])[\w'-]*\s+{_STREET}\b\.?,?\s*{_HOUSE}\b"  # Baker Street 12
    rf"|\b{_COMPOUND_STREET}\b\.?\s*{_HOUSE}\b",  # Hauptstr. 5
    re.IGNORECASE,
)


def scrub(query: str, *, marks: bool = True) -> str:
    """The query with emails, phone numbers and street addresses replaced by [email], [phone], [address].

    With `marks=False` they become spaces (for the gap key, which should not count the marks).
    """
    query = EMAIL_PATTERN.sub("[email]" if marks else " ", query)
    query = PHONE_PATTERN.sub("[phone]" if marks else " ", query)
    return ADDRESS_PATTERN.sub("[address]" if marks else " ", query)


@dataclass(frozen=True)
class SearchGap:
    """One missing runbook, as agents searched for it."""

    terms: str
    example: str
    searches: int
    last_searched: datetime


def gap_key(query: str) -> str:
    """Reduce a query to its sorted search terms, so wording variants count as one gap.

    Personal data (see `scrub`) and numbers (order ids) are left out: they name a customer, not a gap.
    """
    found = {term for term in terms(scrub(query, marks=False)) if not term.isdigit()}
    return " ".join(sorted(found))[:MAX_QUERY_LENGTH]


def record_search_miss(session: Session, query: str, *, actor: str = "", ticket: str = "") -> RunbookSearchMiss | None:
    """Record a search that found nothing (flushes, no commit); None when it is noise or a repeat."""
    key = gap_key(str(query))
    # The product owner reads the gaps and must never see a customer's email, phone or address.
    query = " ".join(scrub(str(query)).split())[:MAX_QUERY_LENGTH]
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
