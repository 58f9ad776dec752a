"""The record pages, for every record the product package declares: parse the request, ask, render. Read-only."""
from __future__ import annotations

from urllib.parse import quote_plus

from flask import abort, current_app, redirect, request, url_for
from flask.globals import _cv_request
from flask_admin import expose
from markupsafe import Markup

from console.admin.base import ConsoleView, deny
from console.audit.chain import AuditUnavailable
from console.extensions import request_user
from console.permissions import LOOKUP, RUN_TASKS, user_can
from console.db import console_reads, target_reads
from console.formatting import human_column
from console.lookup import history, html, listing as lists, records
from console.lookup.display import Shown, columns, filter_bar, noun, rows_html, search_hints
from console.lookup.rows import record_url
from console.lookup.offers import offer_url, offered_tasks, run_url
from console.lookup.paging import BadCursor, Page
from console.lookup.reveal import RevealRefused, hide, may_reveal, reveal, revealed_until
from console.lookup.searches import landed, search_for
from console.lookup.selection import SELECT_HEADING, bulk_picker, selection_form
from console.product.schema import product_schema
from console.product.searches import may_search_partially

AUDIT_DOWN = ("could not be written to the audit trail, so nothing is shown. Try again, and tell an admin if it "
              "keeps failing.")
HOME_MATCHES = 5  # rows per record on the home search's results


def _user():
    return request_user()


def menu_records(product) -> list:
    """The records an agent starts from (the menu, the home search): those declared with list columns and
    either a sort or a search key besides their own key; the rest are reached from them."""
    return [r for r in product.records.values()
            if r.columns and (r.sort or set(r.exact + r.prefix + r.substring) - {r.key})]


def _arg(args, name: str) -> str:
    """A query parameter, '' when absent: MultiDict.get raises and catches a KeyError for every absent one."""
    return args[name] if name in args else ""


def _paging() -> tuple[str, str | None]:
    args = request.args
    if _arg(args, "after"):
        return "after", args["after"]
    if _arg(args, "before"):
        return "before", args["before"]
    if _arg(args, "page") == "last":
        return "last", None
    return "first", None


# What urlencode leaves as it is: a value made of these is written without quote_plus's calls.
_QUERY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def query_string(params: dict) -> str:
    """urlencode's output for {name: text} whose names are identifiers, cheaper: the pager's links are built
    on every list page."""
    return "&".join([f"{name}={value if _QUERY_SAFE.issuperset(value) else quote_plus(value)}"
                     for name, value in params.items()])


def _pager(here: str, base: dict, page: Page) -> dict:
    """Links to the first, previous, next and last pages (None where there is no such page)."""
    base = {key: value for key, value in base.items() if value}

    def link(**extra):
        query = query_string({**base, **extra})
        return f"{here}?{query}" if query else here

    return {
        "first": link() if page.has_prev else None,
        "prev": link(before=page.prev_cursor) if page.prev_cursor else None,
        "next": link(after=page.next_cursor) if page.next_cursor else None,
        "last": link(page="last") if page.has_next else None,
    }


class RecordsView(ConsoleView):
    """List, search and show any record of the product package; reveal its personal data; offer its tasks."""

    permission = LOOKUP

    def is_visible(self) -> bool:
        return False  # the menu lists the records themselves (console/lookup/__init__.py)

    def frame_variant(self):
        """The record a page shows: the menu marks it, so each record's menu is its own cached frame."""
        return (_cv_request.get().request.view_args or {}).get("record")  # asked by every page's frame

    def _reflected(self, record: str):
        reflected = product_schema().record(record)
        if reflected is None:
            abort(404, description=f"There is no record called {record!r}.")
        return reflected

    @expose("/")
    def index(self):
        product = product_schema().product
        return self.render("lookup/index.html", records=list(product.records.values()),
                           starting=set(r.name for r in menu_records(product)))

    @expose("/find")
    def find(self):
        """The home page's search: an exact key that finds one row lands on it; anything else lists matches."""
        q = _arg(request.args, "q").strip()
        if not q:
            return redirect(url_for(".index"))
        schema, conn = product_schema(), target_reads()
        searched = [schema.record(r.name) for r in menu_records(schema.product) if r.searchable]
        user, results, error, status = _user(), [], None, 200
        try:
            exact = [(reflected, phase, row) for reflected in searched
                     for phase, row in lists.exact_matches(conn, reflected, q)]
            if len(exact) == 1:
                reflected, phase, row = exact[0]
                # Landing on a record by its email is a search of personal data, audited as the list's is.
                landed(user, reflected, q, phase, row)
                return redirect(url_for(".detail", record=reflected.record.name,
                                        key=str(row._mapping[reflected.record.key])))
            for reflected in searched:
                name = reflected.record.name
                # A record whose exact keys found nothing is not asked them again.
                found = search_for(conn, reflected, user, q, size=HOME_MATCHES,
                                   exact_found_nothing=all(entry[0] is not reflected for entry in exact))
                if found.page.rows:
                    base = url_for(".listing", record=name)
                    rows = self._rows(conn, reflected, found.page.rows, base)
                    results.append((reflected, found, html.table(reflected, rows),
                                    url_for(".listing", record=name, q=q)))
        except lists.LookupInputError as exc:
            error, status = exc.in_words, exc.status
        except AuditUnavailable:
            results, error, status = [], f"This search {AUDIT_DOWN}", 503
        return self.render("lookup/find.html", q=q, results=results, error=error), status

    @expose("/<record>/")
    def listing(self, record: str):
        reflected = self._reflected(record)
        schema, args, user = product_schema(), request.args, _user()
        shape = lists.shape(schema, reflected)
        filters = {column: args[column].strip() for column in shape.filters if _arg(args, column).strip()}
        base = {"q": _arg(args, "q").strip(), "sort": _arg(args, "sort"), **filters}
        direction, cursor = _paging()
        found, error, status = None, None, 200
        conn = target_reads()
        try:
            if base["q"]:
                found = search_for(conn, reflected, user, base["q"], direction=direction, cursor=cursor)
                if filters or base["sort"]:
                    found.notices.append("A search lists exact matches first, then the rest in order; "
                                         "filters and sorts apply to the list without a search.")
            else:
                found = lists.browse(conn, schema, reflected, filters=filters, sort=base["sort"] or None,
                                     direction=direction, cursor=cursor)
        except lists.LookupInputError as exc:
            found, error, status = None, exc.in_words, exc.status
        except BadCursor as exc:
            found, error, status = None, f"This page link is broken ({exc}). Start again from the first page.", 400
        except AuditUnavailable:
            found, error, status = None, f"This search {AUDIT_DOWN}", 503
        # Record names are identifiers (console.product.declare.RECORD_NAME): nothing to quote.
        record_lists = url_for(".index")
        here = f"{record_lists}{record}/"
        hints = search_hints(reflected, partial=may_search_partially(user))
        context = dict(reflected=reflected, record=reflected.record, error=error, base=base, here=here,
                       filtered=bool(filters), hints=hints, messages=html.messages(found, error),
                       parent_titles=self._parent_titles(shape, filters), results="",
                       filter_bar=filter_bar(reflected, shape, base, here, found.sort if found is not None else ""))
        if found is not None and found.page.rows:
            picker = bulk_picker(user, reflected.record)
            rows = self._rows(conn, reflected, found.page.rows, here, select=picker is not None, lists=record_lists)
            table = html.table(reflected, rows, table_id="records", select=SELECT_HEADING if picker else "")
            context["results"] = (selection_form(picker, table) if picker else table) + \
                html.pager(_pager(here, base, found.page))
        return self.render("lookup/records.html", **context), status

    def _parent_titles(self, shape, filters: dict) -> dict:
        """For a list filtered to one parent (a customer's orders): filter column -> (parent URL, label)."""
        found = {}
        for column, value in filters.items():
            if column in shape.parent_filters:
                parent = shape.parent_filters[column]
                found[column] = (url_for(".detail", record=parent, key=value), f"{noun_of(parent)} {value}")
        return found

    @staticmethod
    def _rows(conn, reflected, rows, base: str, hide_column: str | None = None, revealed: bool = False,
              known: dict | None = None, select: bool = False, lists: str | None = None):
        """The rows' HTML, their parents' titles read on `conn` (the page's target_reads); `lists`: the URL
        the record lists are under, when the caller has it."""
        schema, lists = product_schema(), lists or url_for(".index")
        parents = {via: (f"{lists}{other.record.name}/", found, Shown(other, revealed), fields)
                   for via, (other, found, fields) in records.parents(conn, schema, reflected,
                                                                      rows, hide_column, known).items()}
        return rows_html(reflected, rows, base, parents, hide_column, revealed, select)

    def _page(self, record: str, key: str, conn=None):
        reflected = self._reflected(record)
        # The Core connection: these rows are read, never changed, so the ORM's bookkeeping is pure cost.
        page = records.load(conn or target_reads(), product_schema(), reflected, key)
        if page is None:
            abort(404, description=f"There is no {noun(reflected.record).lower()} {key!r}.")
        return page

    @expose("/<record>/<key>")
    def detail(self, record: str, key: str):
        conn = target_reads()
        return self._detail(self._page(record, key, conn), conn=conn)

    @expose("/<record>/<key>/reveal", methods=("POST",))
    def reveal(self, record: str, key: str):
        page = self._page(record, key)
        try:
            reveal(_user(), page, request.form.get("reason"))
        except RevealRefused as exc:
            if exc.status == 403:
                return deny(self)
            return self._detail(page, reveal_error=exc.message, status=400)
        except AuditUnavailable:
            return self._detail(page, status=503, reveal_error="The reveal could not be written to the audit "
                                "trail, so nothing was revealed. Try again, and tell an admin if it keeps failing.")
        # Redirect after the POST, so reloading the page does not reveal (and audit) twice.
        return redirect(url_for(".detail", record=record, key=key), 303)

    @expose("/<record>/<key>/hide", methods=("POST",))
    def hide(self, record: str, key: str):
        page = self._page(record, key)
        hide(record, page.key)
        return redirect(url_for(".detail", record=record, key=key), 303)

    # Not `<name>`: Flask-Admin's view wrapper takes `name` itself.
    @expose("/<record>/<key>/tasks/<task_name>")
    def run_task(self, record: str, key: str, task_name: str):
        """Open a task's form for this record; a personal value goes into the form, never into the masked page."""
        if not user_can(_user(), RUN_TASKS):
            return deny(self)
        url = offer_url(_user(), self._page(record, key), task_name)
        if url is None:
            abort(404, description=f"The task {task_name!r} is not offered on {record}, or your role may not run it.")
        return redirect(url)

    def _detail(self, page, *, reveal_error: str = "", status: int = 200, conn=None):
        user, record, conn = _user(), page.reflected.record, conn or target_reads()
        until = revealed_until(user, record.name, page.key)
        revealed = until is not None
        shown, the_noun, lists = Shown(page.reflected, revealed), noun(record), url_for(".index")
        here = record_url(f"{lists}{record.name}/", page.key)
        about = history.subject(page)
        sections = [html.fields_table(self._fields(page, revealed, lists)),
                    html.offers_section(offered_tasks(user, page, here), the_noun)]
        known = page.known()
        for relation in page.related:
            other, hidden = relation.other, relation.via if relation.many else None
            base = f"{lists}{other.record.name}/"
            heading = (other.record.label if relation.label == other.record.name else human_column(relation.label)) \
                if relation.many else noun(other.record)
            more = f"{base}?{query_string({relation.via: str(page.key)})}" if relation.more else None
            rows = self._rows(conn, other, relation.rows, base, hidden, revealed, known, lists=lists)
            sections.append(html.related_section(relation.label, heading, len(relation.rows),
                                                 html.table(other, rows, hidden), more, the_noun))
        runs, tickets = history.runs_and_tickets(console_reads(), about)
        sections.append(html.runs_section(runs, run_url))
        sections.append(html.tickets_section(tickets, the_noun,
                                             current_app.jinja_env.globals.get("ticket_link")))
        row = page.values
        return self.render(
            "lookup/record.html", record=record, noun=the_noun, key=page.key, title=shown.title(row),
            # str.join, not Markup.join, which escapes (and so calls) once per already-safe piece.
            badges=Markup("".join([f" {shown.badge(c, row[c])}" for c in record.badges])),
            sections=Markup("\n".join(sections)), revealed_until=until, may_reveal=may_reveal(user),
            has_personal=bool(record.personal or any(r.other.record.personal for r in page.related)),
            reveal_error=reveal_error, reveal_url=f"{here}/reveal", hide_url=f"{here}/hide",
            list_url=f"{lists}{record.name}/",
        ), status

    @staticmethod
    def _fields(page, revealed: bool, lists: str) -> list[tuple]:
        """(label, HTML, masked?) for each column of the record; a BelongsTo's column links to its row
        (`lists`: the URL the record lists are under)."""
        shown, fields = Shown(page.reflected, revealed), []
        for column in columns(page.reflected, "detail"):
            parent = None
            if column.kind == "parent":
                relation = next(r for r in page.related if not r.many and r.via == column.name)
                row = page.parent(column.name)
                if row is not None:
                    other = relation.other
                    parent = (record_url(f"{lists}{other.record.name}/", row._mapping[other.record.key]),
                              Shown(other, revealed).title(row._mapping))
            html = shown.cell(column, page.values, parent=parent)
            fields.append((column.label, html or "—", column.kind == "personal" and not revealed))
        return fields


def noun_of(record_name: str) -> str:
    return noun(product_schema().product.records[record_name])
