"""Runbook search: normalisation, ranking by field, and queries that never raise."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.runbooks.loader import Runbook, load_runbooks
from console.runbooks.search import RunbookIndex, related_runbooks, stem, terms
from tests.runbooks.conftest import SHIPPED_RUNBOOKS

INDEX = RunbookIndex(load_runbooks(SHIPPED_RUNBOOKS))


def runbook(slug, *, title="Untitled", symptoms=("something else",), body="", category="general", tasks=()):
    return Runbook(slug=slug, path=Path(f"{slug}.md"), title=title, category=category, symptoms=tuple(symptoms),
                   tasks=tuple(tasks), body=body)


@pytest.mark.parametrize("a, b", [
    ("can't log in", "cannot login"),
    ("Can’t log-in", "unable to sign in"),
    ("e-mail", "email"),
    ("shipped", "shipping"),
    ("cancelled", "cancellation"),
    ("refunded", "refunds"),
    ("Café", "cafe"),
])
def test_variants_normalise_to_the_same_terms(a, b):
    assert terms(a) == terms(b)


def test_stop_words_go_and_meaningful_words_stay():
    assert terms("Where is my order?") == ["wher", "order"]
    assert terms("the a of to") == []


def test_stem_keeps_short_and_double_s_words():
    assert [stem(w) for w in ("ship", "address", "status", "orders", "shipped")] == \
        ["ship", "address", "status", "order", "ship"]


def test_symptom_match_beats_title_match_beats_body_match():
    index = RunbookIndex([
        runbook("in-body", body="When the parcel is late, check the carrier."),
        runbook("in-title", title="Parcel questions"),
        runbook("in-symptom", symptoms=("parcel never came",)),
    ])

    assert [hit.runbook.slug for hit in index.search("parcel")] == ["in-symptom", "in-title", "in-body"]


def test_symptom_beats_a_body_that_repeats_the_word_many_times():
    index = RunbookIndex([
        runbook("chatty", title="Orders", body=" ".join(["refund"] * 200)),
        runbook("refunds", symptoms=("customer wants a refund",)),
    ])

    assert index.search("refund")[0].runbook.slug == "refunds"


def test_matching_more_of_the_query_ranks_higher_and_symptoms_are_reported():
    index = RunbookIndex([
        runbook("login", symptoms=("customer cannot log in", "account is locked")),
        runbook("password", symptoms=("forgot my password",), body="A new password lets them log in again."),
        runbook("paying", symptoms=("cannot pay", "card refused")),
        runbook("refunds", body="A customer cannot get the same refund twice."),
    ])

    hits = index.search("can't log in")
    assert [hit.runbook.slug for hit in hits] == ["login", "password"]  # "cannot" alone is not half the query
    assert hits[0].matched_symptoms == ("customer cannot log in",)
    assert hits[1].matched_symptoms == ()


def test_an_order_number_in_the_query_does_not_hide_the_runbook():
    index = RunbookIndex([runbook("stuck", symptoms=("order stuck in processing",)), runbook("other")])

    assert [hit.runbook.slug for hit in index.search("order 1003 stuck")] == ["stuck"]


def test_runbooks_matching_under_half_the_words_are_left_out():
    index = RunbookIndex([runbook("cards", body="Card payments are captured at checkout.")])

    assert index.search("gift card balance") == []
    assert [hit.runbook.slug for hit in index.search("card balance")] == ["cards"]


def test_prefix_of_the_last_word_matches_while_typing():
    index = RunbookIndex([runbook("refunds", symptoms=("refund request",))])

    assert [hit.runbook.slug for hit in index.search("refu")] == ["refunds"]
    assert index.search("refu ") == []  # a finished word is not a prefix


def test_no_match_and_limit():
    index = RunbookIndex([runbook(f"r{n}", symptoms=("locked account",)) for n in range(30)])

    assert index.search("banana") == []
    assert len(index.search("locked", limit=5)) == 5
    assert index.search("locked", limit=0) == []


@pytest.mark.parametrize("query", ["", "   ", "!!!", "\x00", "\ud800", "日本語のクエリ", "x" * 100_000,
                                   "' OR 1=1 --", "<script>", None, 42])
def test_odd_queries_return_a_list(query):
    assert isinstance(INDEX.search(query), list)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text())
def test_any_text_query_never_raises(query):
    INDEX.search(query)


@pytest.mark.parametrize("query, slug", [
    ("can't log in", "cannot-log-in"),
    ("where's my parcel", "where-is-my-order"),
    ("money back", "refund-request"),
    ("forgot password", "password-reset"),
    ("order stuck in processing", "order-stuck-in-processing"),
    ("typo in delivery address", "wrong-shipping-address"),
    ("delete my data", "delete-account-and-data"),
    ("confirmation email never arrived", "confirmation-email-missing"),
    ("cancel my order", "cancel-order"),
    ("change my email", "change-email-address"),
])
def test_shipped_runbooks_answer_what_agents_type(query, slug):
    assert INDEX.search(query)[0].runbook.slug == slug


def test_related_runbooks_share_tasks_or_category():
    me = runbook("me", category="orders", tasks=("cancel_order", "refund_order"))
    both = runbook("both", category="orders", tasks=("cancel_order", "refund_order"))
    task = runbook("task", category="payments", tasks=("refund_order",))
    category = runbook("category", category="orders")
    stranger = runbook("stranger", category="privacy")

    assert [r.slug for r in related_runbooks(me, [me, stranger, category, task, both])] == ["both", "category", "task"]
