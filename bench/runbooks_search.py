"""Benchmark runbook search over generated runbooks: `python -m bench.runbooks_search`.

It writes N synthetic runbooks (default 1,000) to a temporary directory, loads them the way
the console does, and times queries of several shapes. The target is under 20 ms per query.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from console.runbooks.library import RunbookLibrary

TARGET_MS = 20.0

COMMON = """customer order account email password refund payment shipping address delivery parcel
login locked confirm cancel invoice card charge return item damaged missing late tracking carrier
warehouse status stuck processing reset change wrong duplicate discount voucher subscription
newsletter phone verify security fraud dispute chargeback export data delete privacy courier
stock size colour exchange gift wrap receipt tax vat currency bank transfer""".split()
TASKS = ["unlock_account", "resend_confirmation_email", "send_password_reset", "change_email",
         "update_shipping_address", "cancel_order", "resend_shipping_notification", "fix_stuck_order",
         "refund_order", "anonymize_customer"]
CATEGORIES = ["account", "orders", "payments", "privacy", "shipping", "catalog", "billing", "general"]


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def make_corpus(rng: random.Random, size: int) -> list[str]:
    """Return a vocabulary: common support words plus rarer made-up ones."""
    return COMMON + [pseudo_word(rng) for _ in range(size)]


def phrase(rng: random.Random, words: list[str], low: int, high: int) -> str:
    # Common words are drawn far more often, like in real text.
    return " ".join(rng.choice(COMMON) if rng.random() < 0.5 else rng.choice(words)
                    for _ in range(rng.randint(low, high)))


def write_runbooks(directory: Path, count: int, rng: random.Random, words: list[str]) -> list[list[str]]:
    """Write `count` runbook files; return each one's symptoms for realistic queries."""
    all_symptoms = []
    for n in range(count):
        symptoms = [phrase(rng, words, 2, 6) for _ in range(rng.randint(3, 8))]
        all_symptoms.append(symptoms)
        tasks = rng.sample(TASKS, rng.randint(0, 3))
        paragraphs = []
        for section in range(rng.randint(3, 6)):
            paragraphs.append(f"## Step {section + 1}: {phrase(rng, words, 2, 5)}")
            paragraphs.append("\n".join(f"- [ ] {phrase(rng, words, 4, 10)}" for _ in range(rng.randint(2, 5))))
            paragraphs.append(phrase(rng, words, 60, 120) + ".")
        for task in tasks:
            paragraphs.append(f"[Run {task}](task:{task}?order_id={{order.id}})")
        front = "\n".join([
            "---",
            f"title: {phrase(rng, words, 3, 7).capitalize()}",
            f"category: {rng.choice(CATEGORIES)}",
            "symptoms:",
            *[f"  - {symptom}" for symptom in symptoms],
            f"tasks: [{', '.join(tasks)}]",
            "owner: bench-team",
            "reviewed: 2026-01-01",
            "---",
        ])
        (directory / f"runbook-{n:05d}.md").write_text(front + "\n\n" + "\n\n".join(paragraphs) + "\n")
    return all_symptoms


def make_queries(rng: random.Random, words: list[str], symptoms: list[list[str]], count: int) -> dict[str, list[str]]:
    return {
        "symptom phrase": [rng.choice(rng.choice(symptoms)) for _ in range(count)],
        "common words": [" ".join(rng.sample(COMMON, rng.randint(1, 4))) for _ in range(count)],
        "typing (prefix)": [f"{rng.choice(COMMON)} {rng.choice(COMMON)[:rng.randint(3, 5)]}" for _ in range(count)],
        "no match": [f"zzq{rng.randint(0, 10**6)} qqx{rng.randint(0, 10**6)}" for _ in range(count)],
        "long junk": ["".join(rng.choice("abc é'!?<>{}\u00e9\u4e2d ") for _ in range(rng.randint(200, 2000)))
                      for _ in range(count)],
        "many words": [" ".join(rng.choice(words) for _ in range(40)) for _ in range(count)],
    }


def time_queries(search, queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        start = time.perf_counter()
        search(query)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runbooks", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300, help="queries per shape")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    words = make_corpus(rng, 5000)

    with tempfile.TemporaryDirectory(prefix="runbooks-bench-") as tmp:
        directory = Path(tmp)
        symptoms = write_runbooks(directory, args.runbooks, rng, words)
        library = RunbookLibrary(directory)
        start = time.perf_counter()
        catalog = library.catalog()
        build_ms = (time.perf_counter() - start) * 1000
        print(f"{len(catalog.runbooks)} runbooks loaded and indexed in {build_ms:.0f} ms "
              f"({len(catalog.index._postings)} distinct terms)")
        queries = make_queries(rng, words, symptoms, args.queries)
        time_queries(library.search, queries["symptom phrase"][:50])  # warm up

        print(f"\n{'query shape':<28}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}")
        every: list[float] = []
        for shape, batch in queries.items():
            timings = time_queries(library.search, batch)
            every.extend(timings)
            print(f"{shape:<28}{statistics.median(timings):>10.2f}{percentile(timings, 0.95):>10.2f}"
                  f"{max(timings):>10.2f}")
        # Worst case for a request: the library also re-checks the files' mtimes.
        checking = RunbookLibrary(directory, check_interval=0)
        checking.catalog()
        with_check = time_queries(checking.search, queries["symptom phrase"])
        print(f"{'symptom + mtime check':<28}{statistics.median(with_check):>10.2f}"
              f"{percentile(with_check, 0.95):>10.2f}{max(with_check):>10.2f}")

        # An edit re-reads only the edited file; the index itself is rebuilt from kept work.
        edited = directory / "runbook-00000.md"
        edited.write_text(edited.read_text() + "\nOne more line.\n")
        start = time.perf_counter()
        checking.catalog()
        print(f"\nreload after editing one runbook: {(time.perf_counter() - start) * 1000:.0f} ms")

        overall_p95 = percentile(every, 0.95)
        print(f"\nall queries: median {statistics.median(every):.2f} ms, p95 {overall_p95:.2f} ms "
              f"(target: under {TARGET_MS:.0f} ms)")
        return 0 if overall_p95 < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
