"""The before/after view of details.changes."""
from console.audit.diff import changes_of, other_details


def test_an_update_marks_exactly_the_changed_fields():
    [row] = changes_of({"changes": [{"table": "customers", "key": {"id": 7},
                                     "before": {"status": "locked", "email": "a@example.com", "tries": 5},
                                     "after": {"status": "active", "email": "a@example.com", "tries": 0}}]})
    assert (row.table, row.key, row.kind) == ("customers", "id=7", "update")
    assert [(f.name, f.before, f.after, f.changed) for f in row.fields] == [
        ("status", "locked", "active", True), ("email", "a@example.com", "a@example.com", False),
        ("tries", "5", "0", True)]
    assert row.changed_count == 2


def test_inserts_deletes_and_new_fields():
    inserted, deleted, widened = changes_of({"changes": [
        {"table": "refunds", "key": {"id": 1}, "before": None, "after": {"amount": 500}},
        {"table": "sessions", "key": "abc", "before": {"user": 3}, "after": None},
        {"table": "orders", "key": {"id": 2}, "before": {"note": None}, "after": {"note": "hi", "flag": True}},
    ]})
    assert inserted.kind == "insert" and [(f.before, f.after) for f in inserted.fields] == [("(absent)", "500")]
    assert deleted.kind == "delete" and deleted.key == "abc"
    assert [(f.name, f.before, f.after) for f in widened.fields] == [("note", "null", "hi"),
                                                                     ("flag", "(absent)", "true")]


def test_odd_shapes_do_not_break_the_page():
    assert changes_of("not even a dict") == []
    assert changes_of({"changes": "nope"}) == []
    [scalar, junk] = changes_of({"changes": [{"table": "t", "before": 1, "after": 2}, "junk"]})
    assert [(f.name, f.before, f.after, f.changed) for f in scalar.fields] == [("value", "1", "2", True)]
    assert junk.fields[0].after == "junk"


def test_other_details_leave_the_changes_out():
    text = other_details({"changes": [], "params": {"email": "a@example.com"}})
    assert '"params"' in text and "changes" not in text
    assert other_details({"changes": []}) == ""
