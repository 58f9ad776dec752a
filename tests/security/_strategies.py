"""Hypothesis strategies for hostile input: nasty text, any JSON, raw bodies, and values from a task's JSON Schema."""
from __future__ import annotations

import json
import os
import random
import string
from datetime import date
from urllib.parse import quote

from hypothesis import HealthCheck, seed, settings, strategies as st

# FUZZ_SCALE multiplies every test's number of cases (default 1). PostgreSQL answers over a socket, several
# times slower per call than in-process SQLite, so it runs 40% as many to keep each file near a minute.
SCALE = float(os.environ.get("FUZZ_SCALE", "1")) * (
    0.4 if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else 1.0)


# FUZZ_SEED picks the cases. Unset: the same cases on every run (derandomized, seeded from each test's code), so a
# failure in CI fails again when rerun. "random": new cases each run, under a seed printed in the report header;
# an integer: the cases of that seed. A failure also prints its @reproduce_failure blob.
_SEED_SETTING = os.environ.get("FUZZ_SEED", "").strip()
FUZZ_SEED = (random.randrange(2**32) if _SEED_SETTING == "random" else int(_SEED_SETTING)) if _SEED_SETTING else None


def seed_description() -> str:
    if FUZZ_SEED is None:
        return "fuzz cases: fixed (FUZZ_SEED=random or FUZZ_SEED=<n> explores others)"
    return f"fuzz cases: FUZZ_SEED={FUZZ_SEED} reruns them"


def fuzz_settings(examples: int):
    """Decorate a @given test: `examples` cases (scaled), FUZZ_SEED's cases, no deadline or example database."""
    config = settings(max_examples=max(10, round(examples * SCALE)), deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), derandomize=FUZZ_SEED is None, print_blob=True)
    if FUZZ_SEED is None:
        return config
    return lambda test: seed(FUZZ_SEED)(config(test))


# Text that has broken real systems: NUL, lone surrogates (JSON can carry them as \ud800),
# right-to-left overrides, combining marks, emoji sequences, case-folding surprises,
# injection classics, numbers and keywords as text, and sizes around the limits.
NASTY_TEXT = [
    "", " ", "\t", "\n", "\r\n", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "\u202eevil\u202c",
    "\u200f\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0001f525" * 300, "e\u0301\u0301\u0301", "\ufeff", "\uffff", "\u0130", "\u00df", "\uff21\uff22",
    "'; DROP TABLE orders; --", "\" OR 1=1 --", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
    "%s%n%x", "{{7*7}}", "${jndi:ldap://x}", "../../etc/passwd", "line\r\nX-Injected: 1", "\\", "\\u0000",
    "1004", "-1", "0", "1e999", "NaN", "Infinity", "true", "null", "[]", "{}", "T-1", "alice@example.com",
    "ALICE@EXAMPLE.COM", " alice@example.com ", "alice@example.com\x00", "alice@ex\u00e4mple.com", "a@b",
    "x" * 121, "x" * 255, "x" * 2001, "x" * 10_001, "\u00e9" * 5000, "\u00b2", "\u0663\u0664",
]

# Characters drawn mostly from a pool of troublemakers (cheap to generate), sometimes from all of Unicode.
TROUBLE_CHARS = (string.printable + "".join(map(chr, range(0, 32))) + "\x7f\x80\x85\xa0\xad\u0130\u0131\u00df"
                 "\u0301\u0345\u05d0\u0627\u200b\u200d\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u3000"
                 "\u4e2d\ufb01\ufe0f\ufeff\uff21\ufffd\uffff\ud800\udbff\udc00\udfff\U0001f525\U0001f469"
                 "\U0010ffff")
ANY_CHAR = st.one_of(st.sampled_from(TROUBLE_CHARS), st.characters(codec=None, exclude_categories=()))
nasty_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(ANY_CHAR, max_size=30),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY_TEXT), st.text(ANY_CHAR, max_size=6)),
)
numbers = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 1001, 1004, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1004.0, 0.5, -0.0, 1e308]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, nasty_text)

# Dates at and past every edge: the supported range (console.dates), the calendar's ends, ISO forms that are not
# YYYY-MM-DD, impossible days. to=9999-12-31 once overflowed into a 500 when a day was added.
EXTREME_DATES = ["0001-01-01", "9999-12-31", "9999-12-30", "0001-01-02", "1999-12-31", "2000-01-01", "2100-12-31",
                 "2101-01-01", "1970-01-01", "2026-02-29", "2024-02-29", "2026-02-30", "0000-00-00", "+2026-01-01",
                 "20260105", "2026-W02-1", "2026-01-05T00:00", "2026-1-5", "２０２６-01-05", "10000-01-01"]
dates_text = st.one_of(st.sampled_from(EXTREME_DATES), st.dates().map(date.isoformat))
# Huge and odd numbers as text: past 32 and 64 bits, signs, exponents, digits that are not ASCII.
NUMBER_TEXT = ["99999999999999999999", str(2**31), str(2**63), str(-(2**63) - 1), "1" * 400, "-0", "+5", "1e3",
               "0x10", "1_000", "²", "٣", "１", " 7", "7 ", "NaN", "inf"]
# Text for any form or query field: the nasty strings, control characters, unicode, dates and numbers.
odd_text = st.one_of(nasty_text, st.sampled_from(EXTREME_DATES + NUMBER_TEXT),
                     st.text(st.characters(max_codepoint=0x9f), max_size=8))
# `next=` values: other hosts in every spelling, control characters that browsers drop, paths of this console.
next_values = st.one_of(st.sampled_from([
    "/admin/", "//evil.example", "///evil.example", "/\\evil.example", "\\evil.example", "https://evil.example",
    "/\t/evil.example", "\t//evil.example", "/\x00/evil.example", "\x01//evil.example", "javascript:alert(1)",
    " //evil.example", "/%2F/evil.example", "/admin/../..//evil.example", "http:evil.example", "/admin/\r\nX: 1",
]).map(lambda s: s.encode().decode("unicode_escape")), st.builds("{}{}".format, st.sampled_from(["/", "//", "/admin/"]),
                                                                 odd_text))
any_json = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(nasty_text, inner, max_size=3)), max_leaves=6)


@st.composite
def raw_body(draw, value=any_json):
    """(bytes, content type) for a JSON value, sometimes mangled: wrong type, bad UTF-8, truncated, not JSON."""
    data = draw(value)
    ascii_only = draw(st.booleans())
    text = json.dumps(data, ensure_ascii=ascii_only)  # Python writes NaN/Infinity, which is not JSON
    body = text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8 when not escaped
    mangle = draw(st.sampled_from(["none"] * 10 + ["truncate", "garbage", "empty", "bom", "latin1"]))
    if mangle == "truncate" and body:
        body = body[:draw(st.integers(0, len(body) - 1))]
    elif mangle == "garbage":
        body = draw(st.binary(max_size=64))
    elif mangle == "empty":
        body = b""
    elif mangle == "bom":
        body = b"\xef\xbb\xbf" + body
    elif mangle == "latin1":
        body = text.encode("latin-1", "replace")
    content_type = draw(mostly(st.sampled_from(["application/json", "application/json; charset=utf-8"]),
                               st.sampled_from(["application/problem+json", "application/json; charset=latin-1",
                                                "text/plain", "application/x-www-form-urlencoded",
                                                "multipart/form-data; boundary=x", None]), 4))
    return body, content_type


def path_segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


# ---- values from a task's JSON Schema (console.tasks.params.json_schema) -----------------------------------

NAMED_EMAILS = ["locked@example.com", "unconfirmed@example.com", "alice@example.com", "nobody@example.com"]
NAMED_ORDERS = [1001, 1002, 1003, 1004, 999_999]
# Addresses that may or may not be valid (st.emails() is slow and only makes valid ones).
EMAILS = st.builds("{}@{}".format, st.one_of(st.sampled_from(["alice", "a.b+tag", "x" * 65, "\u00e4", ""]),
                                                st.text(st.sampled_from(string.ascii_letters + ".-_+"), max_size=12)),
                   st.sampled_from(["example.com", "EXAMPLE.COM", "ex\u00e4mple.de", "localhost", "a..b", "x" * 250]))


def valid_value(name: str, schema: dict):
    """Values the schema allows, biased towards the named demo records so that runs really apply."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        edges = [v for v in (low, high, *(NAMED_ORDERS if "order" in name else [1, 100, 3000, 10_000, 10_001]))
                 if v is not None and (low is None or v >= low) and (high is None or v <= high)]
        return st.one_of(st.sampled_from(edges), st.integers(min_value=low, max_value=high))
    if fmt == "email":
        return mostly(st.sampled_from(NAMED_EMAILS), EMAILS, 3)
    if fmt == "date":
        return st.dates(min_value=date(1900, 1, 1)).map(date.isoformat)
    limit = schema.get("maxLength", 100)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= limit)
    clean = st.text(st.characters(exclude_categories=("Cc", "Cs", "Z")), min_size=1, max_size=min(limit, 60))
    return mostly(clean, st.sampled_from(NASTY_TEXT).map(lambda s: s[:limit]), 4)


@st.composite
def params_for(draw, schema: dict):
    """A params object: valid by the schema, or with values swapped for junk, fields dropped or added."""
    properties = schema["properties"]
    params = {name: draw(valid_value(name, prop)) for name, prop in properties.items()
              if name in schema["required"] or draw(st.booleans())}
    shape = draw(st.sampled_from(["valid"] * 5 + ["junk values", "missing", "extra", "strings", "not an object"]))
    if shape == "junk values" and params:
        for name in draw(st.lists(st.sampled_from(sorted(params)), min_size=1, unique=True)):
            params[name] = draw(any_json)
    elif shape == "missing" and params:
        for name in draw(st.lists(st.sampled_from(sorted(params)), min_size=1, unique=True)):
            del params[name]
    elif shape == "extra":
        params.update(draw(st.dictionaries(nasty_text, any_json, min_size=1, max_size=3)))
    elif shape == "strings":  # what a form or the CLI sends: every value as text
        params = {name: value if isinstance(value, str) else json.dumps(value) for name, value in params.items()}
    elif shape == "not an object":
        return draw(st.one_of(st.lists(any_json, max_size=3), scalars))
    return params


# Mostly good tickets and reasons, so that the parameters get past the first 400 often enough.
good_ticket = st.sampled_from(["T-1", "ZD-4711", "  T-2  ", "\u05d8-\u0661"])
good_reason = st.sampled_from(["customer asked", "line one\nline two", "refund per policy", "\U0001f525 urgent"])
tickets = st.one_of(nasty_text, any_json, good_ticket)
reasons = st.one_of(nasty_text, any_json, good_reason)


@st.composite
def mostly(draw, good, bad, one_in: int = 8):
    """`good`, except one draw in `one_in` from `bad` (st.one_of does not weight its branches)."""
    # sampled_from shrinks towards its first element and ints are drawn boundary-heavy; so "good" goes first
    return draw(good) if draw(st.sampled_from([True] * (one_in - 1) + [False])) else draw(bad)


@st.composite
def run_body(draw, schema: dict):
    """A preview or run body: mostly a good ticket and reason, params from the schema, now and then mangled."""
    body = {"params": draw(params_for(schema)), "ticket": draw(mostly(good_ticket, tickets)),
            "reason": draw(mostly(good_reason, reasons))}
    for name in draw(st.lists(st.sampled_from(sorted(body)), unique=True, max_size=3)):
        if draw(st.sampled_from([False] * 9 + [True])):  # a dropped field, now and then
            del body[name]
    if draw(st.sampled_from([False] * 5 + [True])):  # unknown top-level members
        body.update(draw(st.dictionaries(nasty_text, any_json, max_size=2)))
    return body


# Header values as a server hands them over: UTF-8 bytes read as Latin-1; no line breaks (the client refuses).
header_text = nasty_text.map(lambda s: s.encode("utf-8", "surrogatepass").decode("latin-1")).filter(
    lambda s: not any(ch in s for ch in "\r\n\x00"))
