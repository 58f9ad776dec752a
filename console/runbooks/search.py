"""In-memory runbook search: symptoms beat titles, titles beat bodies.

Agents type what the customer said ("can't log in", "where's my parcel"), so terms are
normalised before matching: contractions expanded, a few phrases joined ("log in" ->
"login"), a small synonym table applied and a light suffix stemmer run. The index is
built once per set of runbook files; a query touches only the postings of its terms.
"""
from __future__ import annotations

import heapq
import math
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from console.runbooks.loader import Runbook

MAX_QUERY_CHARS = 300
MAX_QUERY_TERMS = 20
MAX_PREFIX_EXPANSIONS = 20

# Field weights are tiered so that one term in a symptom outranks that term in every other field.
SYMPTOM_WEIGHT = 8.0
TITLE_WEIGHT = 4.0
TAG_WEIGHT = 2.0  # category and task names
BODY_WEIGHT = 1.0
BODY_WEIGHT_CAP = 2.0
SECONDARY_SHARE = 0.25  # how much the other fields add to the best one
PHRASE_BONUS = 6.0  # a whole symptom phrase in the query (or the query inside one)
PREFIX_FACTOR = 0.7
# A runbook matching under half of the query (words weighed by rarity) is noise, not an
# answer; an agent seeing only such hits has found a gap.
MIN_COVERAGE = 0.5

STOP_WORDS = frozenset("""
a about after again all also am an and any are as at be been before being both but by could
did do does doing down during each few for from further get got had has have having he her
here hers him his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours out over own please same she should so some such
than that the their them then there these they this those through to too under until up very
was we were what which while who whom why will with would you your yours hi hello thanks thank
""".split())

_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bcouldn'?t\b|\bunable\b"), "cannot"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'(?:s|re|ve|ll|d|m)\b"), ""),
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_WORD = re.compile(r"[^\W_]+")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
EMAIL_PATTERN = re.compile(r"\S+@\S+")

PHRASES = {
    ("can", "not"): "cannot",
    ("log", "in"): "login", ("logged", "in"): "login", ("logging", "in"): "login",
    ("log", "on"): "login", ("sign", "in"): "login", ("signed", "in"): "login",
    ("signing", "in"): "login", ("sign", "on"): "login",
    ("e", "mail"): "email", ("e", "mails"): "email", ("pass", "word"): "password",
    ("money", "back"): "refund", ("check", "out"): "checkout",
}
SYNONYMS = {
    "signin": "login", "logon": "login", "signon": "login", "logins": "login",
    "mail": "email", "emails": "email", "mails": "email",
    "pwd": "password", "passwd": "password",
    "parcel": "package", "parcels": "package", "packages": "package", "shipment": "delivery",
    "incorrect": "wrong", "mistyped": "wrong", "typo": "wrong",
    "reimburse": "refund", "reimbursement": "refund", "chargeback": "refund",
    "erase": "delete", "gdpr": "delete", "forget": "delete", "forgotten": "delete",
    "anonymise": "anonymize", "anonymised": "anonymize",
    "locked": "lock", "lockout": "lock",
    "addr": "address", "tracking": "track",
    "canceled": "cancel", "cancelled": "cancel", "cancellation": "cancel",
}
_PHRASE_PATTERN = re.compile(
    r"\b(" + "|".join(sorted({first for first, _second in PHRASES})) + r")[\W_]+("
    + "|".join(sorted({second for _first, second in PHRASES})) + r")\b"
)
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "able",
             "ies", "ied", "ed", "es", "s", "al", "ly", "e", "y")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one common English suffix so that 'shipped' and 'shipping' meet at 'ship'."""
    if len(word) <= 3 or not word.isascii() or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            return word
        base = word[: -len(suffix)]
        if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "aeiousz":
            base = base[:-1]  # shipp -> ship, cancell -> cancel
        return base
    return word


def terms(text: str) -> list[str]:
    """Normalise text into search terms, in order (duplicates kept)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().translate(_APOSTROPHES)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _PHRASE_PATTERN.sub(_join_phrase, text.replace("'", ""))
    joined = _WORD.findall(text)
    return [term for term in map(_term, joined) if term]


def _join_phrase(match: re.Match) -> str:
    return PHRASES.get((match.group(1), match.group(2)), match.group(0))


@lru_cache(maxsize=65536)
def _term(word: str) -> str:
    return "" if word in STOP_WORDS else stem(SYNONYMS.get(word, word))


@dataclass(frozen=True)
class SearchHit:
    runbook: Runbook
    score: float
    matched_symptoms: tuple[str, ...]


@dataclass(frozen=True)
class RunbookTerms:
    """One runbook's contribution to the index: a weight per term, and its symptom phrases' terms."""

    weights: dict[str, float]
    phrases: tuple[tuple[str, frozenset[str]], ...]


def analyse(runbook: Runbook) -> RunbookTerms:
    """Weigh every term of a runbook by the best field it appears in (symptoms, title, tags, body)."""
    phrases = tuple((phrase, found) for phrase in runbook.symptoms if (found := frozenset(terms(phrase))))
    fields: dict[str, list[float]] = defaultdict(list)
    for term in frozenset().union(*(found for _phrase, found in phrases)):
        fields[term].append(SYMPTOM_WEIGHT)
    for term in set(terms(runbook.title)):
        fields[term].append(TITLE_WEIGHT)
    for term in set(terms(" ".join((runbook.category, *runbook.tasks)).replace("_", " "))):
        fields[term].append(TAG_WEIGHT)
    for term, count in Counter(terms(_LINK_TARGET.sub("]", runbook.body))).items():
        fields[term].append(min(BODY_WEIGHT * (1 + 0.5 * math.log(count)), BODY_WEIGHT_CAP))
    weights = {term: max(found) + SECONDARY_SHARE * (sum(found) - max(found)) for term, found in fields.items()}
    return RunbookTerms(weights=weights, phrases=phrases)


class RunbookIndex:
    """An inverted index over runbooks' symptoms, title, category, tasks and body."""

    def __init__(self, runbooks: Sequence[Runbook], analysed: Sequence[RunbookTerms] | None = None):
        self.runbooks = list(runbooks)
        analysed = list(analysed) if analysed is not None else [analyse(runbook) for runbook in self.runbooks]
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        # Which symptom phrases hold a term, to spot a whole phrase in the query without scanning phrases.
        symptom_postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._symptoms: list[list[tuple[str, int]]] = []  # per runbook: (phrase, number of terms)
        for doc, found in enumerate(analysed):
            for term, weight in found.weights.items():
                postings[term][doc] = weight
            for number, (phrase, phrase_terms) in enumerate(found.phrases):
                for term in phrase_terms:
                    symptom_postings[term].append((doc, number))
            self._symptoms.append([(phrase, len(phrase_terms)) for phrase, phrase_terms in found.phrases])
        count = max(len(self.runbooks), 1)
        # Plain dicts: a lookup must never insert, whatever another thread reads meanwhile.
        self._postings = dict(postings)
        self._symptom_postings = dict(symptom_postings)
        self._idf = {term: math.log(1 + count / len(docs)) for term, docs in self._postings.items()}
        self._vocabulary = sorted(self._postings)
        # An unknown word weighs like a typical one; an unknown number (an order id) weighs nothing.
        self._mean_idf = sum(self._idf.values()) / len(self._idf) if self._idf else 1.0

    def _expand(self, query_terms: list[str], last_word_complete: bool) -> list[tuple[str, float]]:
        wanted = [(term, 1.0) for term in query_terms if term in self._postings]
        last = query_terms[-1]
        if not last_word_complete and last not in self._postings and len(last) >= 3:
            # The agent may still be typing the last word: match it as a prefix.
            start = bisect_left(self._vocabulary, last)
            for term in self._vocabulary[start:start + MAX_PREFIX_EXPANSIONS]:
                if not term.startswith(last):
                    break
                wanted.append((term, PREFIX_FACTOR))
        return wanted

    def search(self, query: object, limit: int = 20) -> list[SearchHit]:
        """Rank runbooks for a free-text query; never raises, whatever the input."""
        if not isinstance(query, str):
            return []
        query = query[:MAX_QUERY_CHARS]
        # An email address pasted with the question names the customer, not the problem.
        query_terms = list(dict.fromkeys(terms(EMAIL_PATTERN.sub(" ", query))))[:MAX_QUERY_TERMS]
        if not query_terms or not self.runbooks:
            return []
        wanted = self._expand(query_terms, last_word_complete=query[-1:].isspace())
        # Coverage counts each query word by its rarity: matching only "cannot" out of
        # "cannot login" covers less than half of what the agent asked.
        importance = {term: self._idf.get(term, 0.0 if term.isdigit() else self._mean_idf) for term in query_terms}
        expansions = [term for term, factor in wanted if factor != 1.0]
        if expansions:
            importance[query_terms[-1]] = sum(self._idf[term] for term in expansions) / len(expansions)
        scores: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        prefix_docs: set[int] = set()
        for term, factor in wanted:
            weight = self._idf[term] * factor
            postings = self._postings[term]
            for doc, field_weight in postings.items():
                scores[doc] += weight * field_weight
            if factor == 1.0:
                share = importance[term]
                for doc in postings:
                    covered[doc] += share
            else:
                prefix_docs.update(postings)
        for doc in prefix_docs:
            covered[doc] += importance[query_terms[-1]]
        whole_phrase, touched = self._phrase_hits(wanted, frozenset(query_terms))
        for doc in whole_phrase:
            scores[doc] += PHRASE_BONUS * len(query_terms)
        total = sum(importance.values()) or 1.0
        floor = MIN_COVERAGE * total
        ranked = heapq.nlargest(
            max(limit, 0),
            ((score * min(covered[doc], total) / total, -doc) for doc, score in scores.items() if covered[doc] >= floor),
        )
        return [
            SearchHit(self.runbooks[-negated], round(score, 4),
                      tuple(self._symptoms[-negated][phrase][0] for phrase in sorted(touched.get(-negated, ()))))
            for score, negated in ranked
        ]

    def _phrase_hits(self, wanted: list[tuple[str, float]], exact: frozenset[str]) -> tuple[set[int], dict]:
        """Find the runbooks with a whole symptom in the query (or the query inside a symptom).

        Also return, per runbook, the symptom phrases that share a term with the query.
        """
        counts: dict[tuple[int, int], int] = defaultdict(int)
        exact_counts: dict[tuple[int, int], int] = defaultdict(int)
        for term, _factor in wanted:
            for key in self._symptom_postings.get(term, ()):
                counts[key] += 1
                if term in exact:
                    exact_counts[key] += 1
        whole: set[int] = set()
        touched: dict[int, set[int]] = defaultdict(set)
        for (doc, phrase), count in counts.items():
            touched[doc].add(phrase)
            if count == self._symptoms[doc][phrase][1] or exact_counts[(doc, phrase)] == len(exact):
                whole.add(doc)
        return whole, touched


def related_runbooks(runbook: Runbook, candidates: Iterable[Runbook], limit: int = 5) -> list[Runbook]:
    """Pick runbooks sharing tasks or category with this one, the closest first."""
    tasks = set(runbook.tasks)
    scored = []
    for other in candidates:
        if other.slug == runbook.slug or other.has_error:
            continue
        score = 2 * len(tasks & set(other.tasks)) + (3 if other.category == runbook.category else 0)
        if score:
            scored.append((-score, other.title.lower(), other))
    return [other for _score, _title, other in sorted(scored, key=lambda item: item[:2])[:limit]]
