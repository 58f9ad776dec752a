"""Which columns hold personal data and how each is masked: read from the product package's declarations.

The lookup pages, the run pages and the audit trail all mask by this one table (console.formatting reaches
it through `app.extensions["personal_data"]`). A task parameter named like one of these columns (a new
address line, a recipient's name) carries the same kind of value, so it gets the same mask.
"""
from __future__ import annotations

from console.formatting import neutral
from console.product.declare import BelongsTo
from console.product.mask import BY_NAME, NAME_OF


class PersonalColumns:
    """The product's personal columns by table, with the name of each one's mask."""

    def __init__(self, records, customer=None):
        records = list(records)
        self.by_table: dict[str, dict[str, str]] = {}
        for record in records:
            for column, mask in record.personal.items():
                self.by_table.setdefault(record.table, {})[column] = NAME_OF[mask]
        self.by_name = {column: kind for columns in self.by_table.values() for column, kind in columns.items()}
        # The customers' table and the column of their email: `customer`, the product's customer record, if any.
        self.customer: tuple[str, str] | None = (customer.table, customer.customer) if customer else None
        # How a changed row of each table is named (console.formatting.row_name): table -> (noun, the title's
        # text before and after the key when it shows the key alone ("Order {id}"), the (column, noun) of each
        # record it belongs to that is not the customers'). The first record over a table speaks for it.
        self.rows: dict[str, tuple[str, tuple[str, str] | None, tuple[tuple[str, str], ...]]] = {}
        by_name = {record.name: record for record in records}
        for record in by_name.values():
            around = record.title.split("{" + record.key + "}")
            key_title = (around[0], around[1]) if len(around) == 2 and not {"{", "}"} & set("".join(around)) else None
            parents = tuple((relation.via, by_name[relation.record].noun) for relation in record.related
                            if isinstance(relation, BelongsTo) and relation.record in by_name
                            and by_name[relation.record] is not customer)
            self.rows.setdefault(record.table, (record.noun, key_title, parents))

    def kind_of(self, table: str | None, column: str) -> str | None:
        """The mask for a column of the product, or None when it holds nothing personal."""
        return self.by_table.get(table or "", {}).get(column)

    def field_kind(self, name) -> str | None:
        """The mask for a value named like a personal column (`email`, `new_email`, `line1`), or None."""
        if not isinstance(name, str):
            return None
        return self.by_name.get(name) or ("email" if name.endswith("email") else None)

    @staticmethod
    def mask(kind: str, text: str) -> str:
        return BY_NAME[kind](text)


def shown(value, mask, revealed: bool) -> str:
    """The value as a page may show it: whole when revealed, masked by `mask` otherwise; bidi controls inert."""
    if value is None:
        return ""
    text = neutral(str(value))
    return text if revealed or mask is None else mask(text)
