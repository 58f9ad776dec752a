"""The customer and order pages: parse the request, ask queries/records, render. Read-only."""
from __future__ import annotations

from urllib.parse import quote

from flask import abort, current_app, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_tasks.shop_schema import CUSTOMER_STATUSES, ORDER_STATUSES
from console.admin.base import ConsoleView, deny
from console.audit.chain import AuditUnavailable
from console.permissions import LOOKUP, RUN_TASKS, user_can
from console.db import console_session, target_session
from console.lookup import history, queries, records
from console.lookup.display import HELPERS, MASKED, PersonalData, customer_rows, order_rows
from console.lookup.offers import offered_tasks, run_url, task_form_url
from console.lookup.paging import BadCursor, Page
from console.lookup.reveal import RevealRefused, hide_customer, may_reveal, reveal_customer, revealed_until
from console.lookup.searches import check_search, record_search


def _user():
    return current_user._get_current_object()


def _paging() -> tuple[str, str | None]:
    args = request.args
    if args.get("after"):
        return "after", args["after"]
    if args.get("before"):
        return "before", args["before"]
    if args.get("page") == "last":
        return "last", None
    return "first", None


def _pager(endpoint: str, base: dict, page: Page) -> dict:
    """Links to the first, previous, next and last pages (None where there is no such page)."""
    base = {key: value for key, value in base.items() if value}

    def link(**extra):
        return url_for(endpoint, **base, **extra)

    return {
        "first": link() if page.has_prev else None,
        "prev": link(before=page.prev_cursor) if page.prev_cursor else None,
        "next": link(after=page.next_cursor) if page.next_cursor else None,
        "last": link(page="last") if page.has_next else None,
    }


class _LookupView(ConsoleView):
    """Shared by the customer and order pages: list parsing, errors and reveal handling."""

    permission = LOOKUP
    list_template = ""
    statuses: tuple[str, ...] = ()
    sorts: dict = {}

    def render(self, template, **kwargs):
        # The pages' macros as `m`: Jinja's `{% import %}` compares the template globals on every page
        # (40 µs of a customer page); the module built once has the same macros.
        macros = current_app.jinja_env.get_template("lookup/_macros.html").module
        return super().render(template, m=macros, **kwargs)

    def _listing(self, find, base: dict):
        direction, cursor = _paging()
        error, status, user = None, 400, _user()
        try:
            search = queries.parse_search(base.get("q"))
            check_search(user, search)
            # The Core connection, as for the detail pages: list rows are only read.
            listing = find(target_session().connection(), search=search, direction=direction, cursor=cursor)
            record_search(user, search, listing, scope=self.endpoint)
        except queries.LookupInputError as exc:
            listing, error, status = None, exc.message, getattr(exc, "status", 400)
        except BadCursor as exc:
            listing, error = None, f"This page link is broken ({exc}). Start again from the first page."
        except AuditUnavailable:
            listing, error, status = None, "This search could not be written to the audit trail, so nothing is " \
                                           "shown. Try again, and tell an admin if it keeps failing.", 503
        context = dict(listing=listing, error=error, base=base, statuses=self.statuses, sorts=self.sorts,
                       filtered_sorts=queries.FILTERED_SORTS, pii=MASKED, **HELPERS)
        if listing is not None:
            context["pager"] = _pager(".index", base, listing.page)
            context["rows"] = self.rows(listing)
        return self.render(self.list_template, **context), status if error else 200

    def _reveal(self, customer, render_page, done_url: str):
        """Handle a reveal form: audit, unmask and go back to the page, or re-render it saying what is wrong."""
        try:
            reveal_customer(_user(), customer, request.form.get("reason"))
        except RevealRefused as exc:
            if exc.status == 403:
                return deny(self)
            return render_page(reveal_error=exc.message, status=400)
        except AuditUnavailable:
            return render_page(reveal_error="The reveal could not be written to the audit trail, so nothing was "
                                            "revealed. Try again, and tell an admin if it keeps failing.",
                               status=503)
        # Redirect after the POST, so reloading the page does not reveal (and audit) twice.
        return redirect(done_url, 303)


class CustomerLookupView(_LookupView):
    """Find a customer by email, the start of an email, a customer or order number, or status."""

    list_template = "lookup/customers.html"
    statuses = CUSTOMER_STATUSES
    sorts = queries.CUSTOMER_SORTS

    @staticmethod
    def rows(listing):
        return customer_rows(listing, url_for(".index"))

    @expose("/")
    def index(self):
        args = request.args
        base = {"q": args.get("q", "").strip(), "status": args.get("status", ""), "sort": args.get("sort", "")}

        def find(session, **kw):
            return queries.customer_listing(session, status=base["status"], sort=base["sort"], **kw)

        return self._listing(find, base)

    @expose("/<int:customer_id>")
    def detail(self, customer_id: int):
        return self._detail(customer_id)

    @expose("/<int:customer_id>/reveal", methods=("POST",))
    def reveal(self, customer_id: int):
        record = self._record(customer_id)
        return self._reveal(record.customer, lambda **kw: self._detail(customer_id, record=record, **kw),
                            url_for(".detail", customer_id=customer_id))

    @expose("/<int:customer_id>/hide", methods=("POST",))
    def hide(self, customer_id: int):
        hide_customer(customer_id)
        return redirect(url_for(".detail", customer_id=customer_id), 303)

    # Not `<name>`: Flask-Admin's view wrapper takes `name` itself.
    @expose("/<int:customer_id>/tasks/<task_name>")
    def run_task(self, customer_id: int, task_name: str):
        """Open a task's form for this customer; the email goes into the form, never into the masked page."""
        if not user_can(_user(), RUN_TASKS):
            return deny(self)
        email = records.customer_email(target_session().connection(), customer_id)
        if email is None:
            abort(404, description=f"No customer with the number {customer_id}.")
        url = task_form_url(_user(), "customer", email, task_name)
        if url is None:
            abort(404, description=f"The task {task_name!r} does not apply to customers, or your role may not run it.")
        return redirect(url)

    def _record(self, customer_id: int):
        # The Core connection: these rows are read, never changed, so the ORM's bookkeeping is pure cost.
        record = records.customer_record(target_session().connection(), customer_id)
        if record is None:
            abort(404, description=f"No customer with the number {customer_id}.")
        return record

    def _detail(self, customer_id: int, *, record=None, reveal_error: str = "", status: int = 200):
        record = record or self._record(customer_id)
        user = _user()
        email = record.customer.email
        until = revealed_until(user, customer_id)
        console = console_session()
        # The reveal, hide and task links are routes under this page's own URL (above): one url_for, not seven.
        page = url_for(".detail", customer_id=customer_id)
        return self.render(
            "lookup/customer.html", record=record, c=record.customer, pii=PersonalData(until is not None),
            revealed_until=until, may_reveal=may_reveal(user), reveal_error=reveal_error,
            reveal_url=f"{page}/reveal", hide_url=f"{page}/hide",
            offers=offered_tasks(user, "customer", email, link=lambda name: f"{page}/tasks/{quote(name, safe='')}"),
            runs=history.runs_about(console, customer=email),
            tickets=history.tickets_about(console, email), run_url=run_url, **HELPERS,
        ), status


class OrderLookupView(_LookupView):
    """Find an order by number, by the customer's email, or by status; sort by date, total or number."""

    list_template = "lookup/orders.html"
    statuses = ORDER_STATUSES
    sorts = queries.ORDER_SORTS

    @staticmethod
    def rows(listing):
        return order_rows(listing, url_for(".index"), url_for("customers.index"))

    @expose("/")
    def index(self):
        args = request.args
        base = {"q": args.get("q", "").strip(), "status": args.get("status", ""), "sort": args.get("sort", ""),
                "customer": args.get("customer", "")}
        customer_id = None
        if base["customer"]:
            digits = base["customer"]
            if not (digits.isascii() and digits.isdigit()) or int(digits) > queries.MAX_ID:  # "²" is a digit too
                return self._listing(self._bad_customer, dict(base, customer=""))
            customer_id = int(base["customer"])

        def find(session, **kw):
            return queries.order_listing(session, status=base["status"], sort=base["sort"],
                                         customer_id=customer_id, **kw)

        return self._listing(find, base)

    @staticmethod
    def _bad_customer(session, **kw):
        raise queries.LookupInputError("customer", "customer: give a customer number (digits only).")

    @expose("/<int:order_id>")
    def detail(self, order_id: int):
        return self._detail(order_id)

    @expose("/<int:order_id>/reveal", methods=("POST",))
    def reveal(self, order_id: int):
        record = self._record(order_id)
        if record.customer is None:
            abort(404, description=f"Order {order_id} has no customer record to reveal.")
        return self._reveal(record.customer, lambda **kw: self._detail(order_id, record=record, **kw),
                            url_for(".detail", order_id=order_id))

    @expose("/<int:order_id>/hide", methods=("POST",))
    def hide(self, order_id: int):
        hide_customer(self._record(order_id).order.customer_id)
        return redirect(url_for(".detail", order_id=order_id), 303)

    def _record(self, order_id: int):
        record = records.order_record(target_session().connection(), order_id)
        if record is None:
            abort(404, description=f"No order with the number {order_id}.")
        return record

    def _detail(self, order_id: int, *, record=None, reveal_error: str = "", status: int = 200):
        record = record or self._record(order_id)
        user = _user()
        until = revealed_until(user, record.order.customer_id)
        return self.render(
            "lookup/order.html", record=record, o=record.order, c=record.customer,
            pii=PersonalData(until is not None), revealed_until=until, may_reveal=may_reveal(user),
            reveal_error=reveal_error, reveal_url=url_for(".reveal", order_id=order_id),
            hide_url=url_for(".hide", order_id=order_id), offers=offered_tasks(user, "order", order_id),
            runs=history.runs_about(console_session(), order_id=order_id), run_url=run_url, **HELPERS,
        ), status
