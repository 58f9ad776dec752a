"""What a product package declares: its records, and how they relate.

    Record("customers", key="id", title="{name} <{email}>", exact=["email", "id"], prefix=["email"],
           personal={"email": mask.email}, money={"total_cents": Money(currency="EUR")},
           related=[HasMany("orders", via="customer_id")])

A mistake is a ProductError naming the record and the field; loading adds the package.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

from console.formatting import table_noun
from console.product.kinds import REJECTS
from console.product.mask import NAME_OF
from console.product.money import CURRENCY_CODE, Money

RECORD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
TONES = ("success", "danger", "warning", "info", "secondary")
RELATED_LIMIT = 20


class ProductError(Exception):
    """A declaration is wrong; `record` and `field` say where (either may be empty)."""

    def __init__(self, record: str, field: str, message: str):
        where = ", ".join(part for part in (f"record {record!r}" if record else "",
                                            f"field {field!r}" if field else "") if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.record = record
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HasMany:
    """Rows of another record that point at this one: `HasMany("orders", via="customer_id")` (newest first)."""

    record: str
    via: str
    name: str = ""
    limit: int = RELATED_LIMIT

    @property
    def label(self) -> str:
        return self.name or self.record


@dataclass(frozen=True)
class BelongsTo:
    """The one row of another record this row points at: `BelongsTo("customers", via="customer_id")`."""

    record: str
    via: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.record


def _columns(record: str, field: str, value) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(item, str) and item for item in value or ()):
        raise ProductError(record, field, "expected a list of column names")
    if len(set(value)) != len(value):
        raise ProductError(record, field, "names a column twice")
    return tuple(value)


def _mapping(record: str, field: str, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(key, str) and key for key in value):
        raise ProductError(record, field, "expected a dict keyed by column name")
    return dict(value)


class Record:
    """One kind of row support looks up, declared over a table of the product database."""

    FIELDS = ("table", "key", "label", "title", "exact", "prefix", "substring", "columns", "sort", "personal",
              "holds", "money", "badges", "related", "customer", "noun")

    def __init__(self, name: str, **fields):
        if not isinstance(name, str) or not RECORD_NAME.match(name):
            raise ProductError(str(name)[:60], "name", "a record name is letters, digits and underscores, "
                                                       "starting with a letter (it appears in URLs)")
        self.name = name
        unknown = sorted(set(fields) - set(self.FIELDS))
        if unknown:
            raise ProductError(name, unknown[0], f"unknown field; a record has {', '.join(self.FIELDS)}")
        self.table = self._text("table", fields.get("table", name))
        self.key = self._text("key", fields.get("key", "id"))
        self.label = self._text("label", fields.get("label", name.replace("_", " ").capitalize()))
        self.title = self._text("title", fields.get("title", self.key))
        # What one row is called ("Email"): the name in words, singular, unless said ("outbox_emails" -> "Outbox email").
        self.noun = self._text("noun", fields["noun"]) if "noun" in fields else table_noun(name)
        self.exact = _columns(name, "exact", fields.get("exact", ()))
        self.prefix = _columns(name, "prefix", fields.get("prefix", ()))
        self.substring = _columns(name, "substring", fields.get("substring", ()))
        self.columns = _columns(name, "columns", fields.get("columns", ()))
        self.sort = _columns(name, "sort", fields.get("sort", ()))
        self.personal = _mapping(name, "personal", fields.get("personal", {}))
        self.holds = _mapping(name, "holds", fields.get("holds", {}))
        self.money = _mapping(name, "money", fields.get("money", {}))
        self.badges = _mapping(name, "badges", fields.get("badges", {}))
        self.related = tuple(fields.get("related", ()))
        # `customer="email"`: this record's rows are the product's customers, and that column holds their email
        # (the address tickets and runs name a customer by). At most one record of a package says so.
        self.customer = self._text("customer", fields["customer"]) if fields.get("customer") is not None else None
        self._check()

    def _text(self, field: str, value) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ProductError(self.name, field, "expected a non-empty string")
        return value

    def _check(self) -> None:
        for column, mask in self.personal.items():
            if mask not in NAME_OF:
                raise ProductError(self.name, "personal", f"column {column!r}: use one of the masks in "
                                                          f"console.product.mask ({', '.join(NAME_OF.values())})")
        for column, kind in self.holds.items():
            if not isinstance(kind, str) or kind not in REJECTS:
                raise ProductError(self.name, "holds", f"column {column!r}: a kind is one of {', '.join(REJECTS)}")
        for column, money in self.money.items():
            if not isinstance(money, Money) or bool(money.currency) == bool(money.currency_column):
                raise ProductError(self.name, "money", f"column {column!r}: expected Money(currency=\"EUR\") or "
                                                       "Money(currency_column=\"currency\"), one of the two")
            if money.currency and not CURRENCY_CODE.match(money.currency):
                raise ProductError(self.name, "money", f"column {column!r}: {money.currency!r} is not a "
                                                       "three-letter currency code")
        for column, tones in self.badges.items():
            if not isinstance(tones, dict) or any(tone not in TONES for tone in tones.values()):
                raise ProductError(self.name, "badges", f"column {column!r}: expected {{value: tone}} with tones "
                                                        f"{', '.join(TONES)}")
        labels = set()
        for relation in self.related:
            if not isinstance(relation, (HasMany, BelongsTo)):
                raise ProductError(self.name, "related", "expected HasMany(...) or BelongsTo(...) items")
            if relation.label in labels:
                raise ProductError(self.name, "related", f"{relation.label!r} appears twice; give one a name=...")
            labels.add(relation.label)
        try:
            self.title_columns
        except (ValueError, IndexError):
            raise ProductError(self.name, "title", "expected a column name or a template such as "
                                                   "\"{name} <{email}>\"") from None

    @property
    def title_columns(self) -> tuple[str, ...]:
        """The columns the title shows: the one it names, or each {column} in its template."""
        if "{" not in self.title:
            return (self.title,)
        parts = [(field, spec, conversion) for _text, field, spec, conversion in string.Formatter().parse(self.title)
                 if field is not None]
        # Plain {column} only: a format spec or an attribute lookup could fail, or reach further, at run time.
        if not parts or any(not field.isidentifier() or spec or conversion for field, spec, conversion in parts):
            raise ValueError(self.title)
        return tuple(dict.fromkeys(field for field, _spec, _conversion in parts))

    @property
    def searchable(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.exact + self.prefix + self.substring))

    def referenced(self) -> dict[str, tuple[str, ...]]:
        """Every column a field names, by field: what `product check` compares with the table."""
        currencies = tuple(m.currency_column for m in self.money.values() if m.currency_column)
        return {"key": (self.key,), "title": self.title_columns, "exact": self.exact, "prefix": self.prefix,
                "substring": self.substring, "columns": self.columns, "sort": self.sort,
                "personal": tuple(self.personal), "holds": tuple(self.holds), "money": tuple(self.money) + currencies,
                "badges": tuple(self.badges),
                "related": tuple(r.via for r in self.related if isinstance(r, BelongsTo)),
                "customer": (self.customer,) if self.customer else ()}

    def __repr__(self) -> str:
        return f"Record({self.name!r}, table={self.table!r})"
