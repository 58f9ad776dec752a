"""The generated demo shoppers: customer n and their orders are a pure function of (seed, n).

Timestamps hang off a fixed EPOCH, never off the clock, so a seed always gives the same rows.
Only `random()` and `getrandbits()` are drawn, because their streams are stable across
Python versions (unlike `randrange`, `choice` or `choices`). Times are whole seconds from
EPOCH while generating and leave as SQLAlchemy's own DateTime text, which both SQLite and
PostgreSQL's COPY take as is: building millions of datetime objects was the slowest part.
"""
from __future__ import annotations

import random
from bisect import bisect
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate

EPOCH = datetime(2026, 1, 1)
HISTORY_SECONDS = 2 * 365 * 86400
FIRST_CUSTOMER_ID = 1000
FIRST_ROW_ID = 100_000
# Customers draw from one random stream per block, so a later, larger run can replay a block
# up to where the earlier run stopped without reseeding for every customer (seeding is ~7 µs).
RNG_BLOCK = 1000

COLUMNS = {
    "customers": ("id", "email", "name", "phone", "status", "email_confirmed", "failed_login_count",
                  "created_at", "updated_at"),
    "orders": ("id", "customer_id", "status", "currency", "total_cents", "refunded_cents", "created_at",
               "updated_at", "status_changed_at"),
    "order_items": ("id", "order_id", "sku", "name", "quantity", "unit_price_cents"),
    "payments": ("id", "order_id", "amount_cents", "status", "provider_ref", "created_at"),
    "shipments": ("id", "order_id", "status", "recipient_name", "line1", "line2", "city", "postcode", "country",
                  "carrier", "tracking_number", "shipped_at", "delivered_at"),
    "refunds": ("id", "order_id", "amount_cents", "reason", "created_at"),
    "email_outbox": ("id", "customer_id", "order_id", "to_address", "template", "subject", "created_at", "sent_at"),
}
TABLES = tuple(COLUMNS)  # parents before children

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Katrin", "Lukas",
    "Marie", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Sophie", "Tom", "Ugo", "Vera", "Wim", "Xavier",
    "Yara", "Zoe", "Amelie", "Bastian", "Chloe", "Daan", "Elena", "Finn", "Giulia", "Hannah", "Ivan", "Julia",
    "Karim", "Lea", "Mateo", "Nina", "Oscar", "Pia", "Ruben", "Sara", "Theo", "Ursula", "Victor", "Lotte",
    "Marco", "Fatima", "Leon", "Eva", "Arjen", "Camille", "Lucas", "Sanne", "Tobias", "Agnes", "Pieter", "Laura",
)
LAST_NAMES = (
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Dubois", "Martin",
    "Bernard", "Moreau", "Laurent", "Lefevre", "de Jong", "Jansen", "de Vries", "Bakker", "Visser", "Smit",
    "Peeters", "Janssens", "Maes", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Garcia", "Lopez",
    "Martinez", "Sanchez", "Romero", "Gruber", "Huber", "Bauer", "Wolf", "Kelly", "Murphy", "Walsh",
    "Byrne", "Virtanen", "Korhonen", "Nieminen", "Hoffmann", "Koch", "Richter", "Klein", "Girard", "Mertens",
)
# (country, phone prefix, cities, street pattern, postcode pattern) — real formats, invented streets.
REGIONS = (
    ("DE", "+49 15", ("Berlin", "Hamburg", "Munchen", "Koln", "Leipzig"), "{street}str. {no}", "{d5}"),
    ("FR", "+33 6", ("Paris", "Lyon", "Lille", "Nantes", "Bordeaux"), "{no} rue {street}", "{d5}"),
    ("NL", "+31 6", ("Amsterdam", "Utrecht", "Rotterdam", "Groningen"), "{street}straat {no}", "{d4} {l2}"),
    ("BE", "+32 47", ("Brussel", "Antwerpen", "Gent", "Liege"), "{street}laan {no}", "{d4}"),
    ("AT", "+43 66", ("Wien", "Graz", "Linz", "Salzburg"), "{street}gasse {no}", "{d4}"),
    ("ES", "+34 6", ("Madrid", "Barcelona", "Valencia", "Sevilla"), "Calle {street} {no}", "{d5}"),
    ("IT", "+39 3", ("Roma", "Milano", "Torino", "Bologna"), "Via {street} {no}", "{d5}"),
)
STREETS = ("Linden", "Garten", "Berg", "Mozart", "Victor Hugo", "Rembrandt", "Marconi", "Goya", "Molen",
           "Park", "Kirch", "Schiller", "Tulpen", "Haven", "Verdi", "Sol", "Rosen", "Bach")
PRODUCTS = (  # sku, name, unit price in cents
    ("MUG-001", "Enamel camping mug", 1450), ("TEE-010", "Organic cotton T-shirt", 2500),
    ("TEE-011", "Long-sleeve T-shirt", 3200), ("HOO-020", "Zip hoodie", 5900),
    ("CAP-030", "Canvas cap", 1900), ("BAG-040", "Waxed tote bag", 3900),
    ("BAG-041", "Rolltop backpack", 8900), ("BOT-050", "Insulated bottle 750 ml", 2900),
    ("NOT-060", "Dotted notebook A5", 1200), ("PEN-061", "Brass pen", 3400),
    ("LMP-070", "Desk lamp", 6900), ("SCK-080", "Merino socks (3 pairs)", 2400),
    ("JKT-090", "Rain jacket", 12900), ("BLK-100", "Wool blanket", 9900),
    ("KNF-110", "Pocket knife", 4500), ("CHR-120", "Folding chair", 7900),
    ("TNT-130", "Two-person tent", 24900), ("HDP-140", "Wireless headphones", 15900),
    ("CHG-150", "USB-C charger 65 W", 3900), ("CBL-151", "Braided cable 2 m", 1500),
    ("PLT-160", "Stoneware plate set", 4900), ("CFE-170", "Coffee beans 1 kg", 2600),
    ("GRN-180", "Hand grinder", 8400), ("PST-190", "Framed print", 5500),
)
CARRIERS = (("DHL", "JJD"), ("DPD", "0150"), ("PostNL", "3S"), ("UPS", "1Z"), ("GLS", "GL"))
REFUND_REASONS = ("Item arrived damaged", "Customer changed their mind", "Wrong size",
                  "Parcel lost in transit", "Duplicate order", "Item not as described")
ORDERS_PER_CUSTOMER = (0.10, 0.18, 0.20, 0.17, 0.13, 0.09, 0.06, 0.04, 0.02, 0.01)  # 0..9, mean ≈ 2.95
_ORDER_COUNT_CUM = tuple(accumulate(ORDERS_PER_CUSTOMER))

HOUR = 3600
DAY = 86400


def customer_email(first: str, last: str, n: int) -> str:
    return f"{first}.{last.replace(' ', '')}.{n}@example.net".lower()


@lru_cache(maxsize=4096)
def _date_text(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")


_CLOCK_TEXT = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECOND_TEXT = tuple(f"{s:02d}.000000" for s in range(60))


def stamp(seconds: int) -> str:
    """Return EPOCH + seconds as stored text, 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    day, second = divmod(seconds, DAY)
    minute, second = divmod(second, 60)
    return _date_text(day) + _CLOCK_TEXT[minute] + _SECOND_TEXT[second]


class ShopGenerator:
    """Make the rows of generated customers n = start, start+1, ... and of everything they own.

    `next_ids` holds the next free id of every table but customers (whose id is
    FIRST_CUSTOMER_ID + n); ids are handed out in generation order and advanced in place.
    """

    def __init__(self, seed: int, next_ids: dict[str, int]):
        self.seed = seed
        self.next_ids = next_ids
        self._rng = random.Random()
        self._block = None
        self._position = 0  # the customer the random stream is positioned at

    def batch(self, start: int, stop: int) -> dict[str, list[tuple]]:
        """Return the rows of customers start..stop-1, table by table."""
        rows: dict[str, list[tuple]] = {table: [] for table in TABLES}
        for n in range(start, stop):
            self._seek(n)
            self._customer(n, rows, self.next_ids)
            self._position = n + 1
        return rows

    def _seek(self, n: int) -> None:
        block = n // RNG_BLOCK
        if block != self._block or n < self._position:
            self._rng.seed(f"support-console demo shop:{self.seed}:{block}")
            self._block, self._position = block, block * RNG_BLOCK
        if self._position < n:
            scratch_ids = dict(self.next_ids)  # replayed customers already exist: throw their rows away
            scratch = {table: [] for table in TABLES}
            for skipped in range(self._position, n):
                self._customer(skipped, scratch, scratch_ids)
                for table_rows in scratch.values():
                    table_rows.clear()
            self._position = n

    def _customer(self, n: int, rows: dict[str, list[tuple]], ids: dict[str, int]) -> None:
        r = self._rng.random
        first = FIRST_NAMES[int(r() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(r() * len(LAST_NAMES))]
        customer_id = FIRST_CUSTOMER_ID + n
        email = customer_email(first, last, n)
        name = f"{first} {last}"
        country, phone_prefix, cities, street_pattern, postcode_pattern = REGIONS[int(r() * len(REGIONS))]
        phone = f"{phone_prefix}{int(r() * 10**8):08d}" if r() < 0.8 else None
        address = (
            name,
            street_pattern.format(street=STREETS[int(r() * len(STREETS))], no=1 + int(r() * 180)),
            f"Apt {1 + int(r() * 40)}" if r() < 0.15 else None,
            cities[int(r() * len(cities))],
            postcode_pattern.format(d5=f"{int(r() * 10**5):05d}", d4=f"{1000 + int(r() * 9000)}",
                                    l2=chr(65 + int(r() * 26)) + chr(65 + int(r() * 26))),
            country,
        )
        created = -1 - int(r() * HISTORY_SECONDS)
        lifetime = -created
        roll = r()
        confirmed = r() >= 0.03
        status, failed_logins, updated = "active", 0, created
        if roll < 0.01:
            status, failed_logins = "locked", 5 + int(r() * 6)
            updated = created + int(r() * lifetime)
        elif roll < 0.013:
            status, updated = "disabled", created + int(r() * lifetime)
        rows["customers"].append(
            (customer_id, email, name, phone, status, confirmed, failed_logins, stamp(created), stamp(updated))
        )
        if not confirmed:
            self._email(ids, rows, customer_id, None, email, "email_confirmation",
                        "Please confirm your email address", created)
        if status == "locked":
            self._email(ids, rows, customer_id, None, email, "account_locked",
                        "Your account has been locked", updated)
        order_count = bisect(_ORDER_COUNT_CUM, r() * _ORDER_COUNT_CUM[-1]) if confirmed else 0
        placed = sorted(int(r() * lifetime) for _ in range(order_count))
        for offset in placed:
            self._order(customer_id, email, address, created + offset, rows, ids)

    def _order(self, customer_id, email, address, created, rows, ids) -> None:
        r = self._rng.random
        order_id = ids["orders"]
        ids["orders"] += 1
        total = 0
        for _ in range(1 if r() < 0.7 else 2):
            sku, product, price = PRODUCTS[int(r() * len(PRODUCTS))]
            quantity = 1 if r() < 0.85 else 2 + int(r() * 2)
            total += quantity * price
            rows["order_items"].append((ids["order_items"], order_id, sku, product, quantity, price))
            ids["order_items"] += 1

        # The order's life: paid after minutes, processing after hours, shipped after days.
        # Whatever has not happened by EPOCH (time 0) decides its status.
        paid = created + 60 + int(r() * 1800)
        processing = paid + HOUR // 2 + int(r() * 6 * HOUR)
        shipped = processing + HOUR * 12 + int(r() * 2.5 * DAY)
        delivered = shipped + DAY + int(r() * 4 * DAY)
        returned = delivered + DAY + int(r() * 20 * DAY)
        fate = r()
        refunded, refunded_at = 0, None
        payment_status, shipment = "captured", None
        if fate < 0.015:  # the card was declined; the shop cancels unpaid orders after a day
            payment_status = "failed"
            cancelled = created + DAY
            status, changed = ("cancelled", cancelled) if cancelled <= 0 else ("pending", created)
        elif paid > 0:
            status, changed, payment_status = "pending", created, "authorized"
        elif fate < 0.06 and processing <= 0:  # cancelled by the customer before it was picked
            status, changed, payment_status = "cancelled", (paid + processing) // 2, "voided"
        elif processing > 0:
            status, changed, shipment = "paid", paid, "pending"
        elif shipped > 0:
            status, changed, shipment = "processing", processing, "pending"
        elif delivered > 0:
            status, changed, shipment = "shipped", shipped, "shipped"
        elif fate < 0.11 and returned <= 0:
            status, changed, shipment = "refunded", returned, "returned"
            refunded, refunded_at = total, returned
        else:
            status, changed, shipment = "delivered", delivered, "delivered"
            if fate > 0.98 and returned <= 0:  # a goodwill partial refund on a delivered order
                refunded, refunded_at = max(100, int(total * (0.1 + r() * 0.4)) // 100 * 100), returned
        changed_text = stamp(changed)
        rows["orders"].append((order_id, customer_id, status, "EUR", total, refunded, stamp(created),
                               stamp(refunded_at) if refunded_at is not None else changed_text, changed_text))
        rows["payments"].append((ids["payments"], order_id, total, payment_status,
                                 f"pi_{self._rng.getrandbits(96):024x}", stamp(created + 5)))
        ids["payments"] += 1
        if shipment:
            carrier, tracking = None, None
            if shipment != "pending":
                carrier, prefix = CARRIERS[int(r() * len(CARRIERS))]
                tracking = f"{prefix}{self._rng.getrandbits(40):013d}"
            rows["shipments"].append((
                ids["shipments"], order_id, shipment, *address, carrier, tracking,
                stamp(shipped) if shipment != "pending" else None,
                stamp(delivered) if shipment in ("delivered", "returned") else None,
            ))
            ids["shipments"] += 1
            if shipment == "shipped" and shipped > -7 * DAY:
                self._email(ids, rows, customer_id, order_id, email, "shipping_notification",
                            f"Your order {order_id} is on its way", shipped)
        if refunded:
            reason = REFUND_REASONS[int(r() * len(REFUND_REASONS))]
            rows["refunds"].append((ids["refunds"], order_id, refunded, reason, stamp(refunded_at)))
            ids["refunds"] += 1

    @staticmethod
    def _email(ids, rows, customer_id, order_id, to_address, template, subject, created) -> None:
        sent = created + 30
        rows["email_outbox"].append((ids["email_outbox"], customer_id, order_id, to_address, template, subject,
                                     stamp(created), stamp(sent) if sent <= 0 else None))
        ids["email_outbox"] += 1
