"""Whether the signed checkpoints cover the trail as the checkpoint policy promises.

Once every entry has chained and every checkpoint has verified, what is left to judge is the
checkpoints themselves: someone who can write to the database may have deleted them (to hide a
recomputed chain, or a cut-off tail). The policy signs one at least every `every` entries and
every `interval`, the first entry (or the empty trail before it) is signed, and the head row
notes the newest. So:

- more than `every` entries after the newest checkpoint: some were deleted (always a failure);
- the head row notes a checkpoint that is not there: it was deleted (always a failure);
- no checkpoint at all under a non-empty trail, a hole in time between two checkpoints, or a
  newest checkpoint older than `interval` + SLACK: deleted, or the hourly job is not running.
  A warning, and a failure with `audit verify --strict`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SLACK = timedelta(minutes=15)  # how late an hourly checkpoint may be before it counts as missing


@dataclass(frozen=True)
class Uncovered:
    """The first entry a deleted (or never signed) checkpoint should have covered."""

    seq: int
    problem: str
    always: bool  # a failure even without --strict


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def count_gap(every: int, newest: int, until: str) -> str:
    return (f"no signed checkpoint after seq {newest} {until}, though one is signed every {every} entries: "
            "checkpoints were deleted")


def uncovered(policy, last_seq: int, head, checkpoint_rows, now: datetime) -> list[Uncovered]:
    """Every way the checkpoints fall short of the policy, for a trail that otherwise verified.

    `head` has seq, checkpoint_seq and checkpoint_at (None: no head row); `checkpoint_rows`
    have seq and created_at, and have all verified.
    """
    if policy is None:
        return []
    found = []
    noted = head.checkpoint_seq if head is not None else None
    if noted is not None and not any(row.seq == noted and row.created_at == head.checkpoint_at
                                     for row in checkpoint_rows):
        signed = when(head.checkpoint_at) if head.checkpoint_at else "an unknown time"
        if noted > last_seq:
            found.append(Uncovered(last_seq + 1, f"missing: the trail ends at seq {last_seq}, but the head row notes "
                                                 f"a signed checkpoint of {signed} for seq {noted} (the tail and "
                                                 "its checkpoints were deleted)", True))
        else:
            found.append(Uncovered(noted, f"the head row notes a signed checkpoint of {signed} for this entry, but "
                                          "there is no such checkpoint: checkpoints were deleted", True))
    if not checkpoint_rows:
        if last_seq:
            found.append(Uncovered(1, f"no signed checkpoint covers any of the {last_seq} entries, though the first "
                                      "entry is always signed: checkpoints were deleted, or the trail was written "
                                      "without CONSOLE_AUDIT_KEY", False))
        return found
    newest_seq = max(row.seq for row in checkpoint_rows)
    if last_seq - newest_seq > policy.every:
        found.append(Uncovered(newest_seq + policy.every,
                               count_gap(policy.every, newest_seq, f"though the trail goes on to seq {last_seq}"),
                               True))
    limit = policy.interval + SLACK
    ordered = sorted(checkpoint_rows, key=lambda row: (row.created_at, row.seq))
    for earlier, later in zip(ordered, ordered[1:]):
        if later.created_at - earlier.created_at > limit:
            found.append(Uncovered(earlier.seq + 1, f"no signed checkpoint between {when(earlier.created_at)} and "
                                                    f"{when(later.created_at)}: checkpoints were deleted, or "
                                                    "`support-console audit checkpoint` did not run hourly", False))
            break
    newest = ordered[-1]
    if now - newest.created_at > limit:
        found.append(Uncovered(newest.seq + 1, f"the newest signed checkpoint is from {when(newest.created_at)}: "
                                               "`support-console audit checkpoint` is not running hourly, or newer "
                                               "checkpoints were deleted", False))
    return found


def first_failure(found: list[Uncovered], strict: bool) -> Uncovered | None:
    """The failure with the lowest seq (the first listed among equals), or None."""
    failing = [item for item in found if item.always or strict]
    return min(failing, key=lambda item: item.seq) if failing else None
