"""bench/pages.py: the console URLs every suite drives exist in the app, and query strings are quoted."""
from bench import pages


def test_every_page_the_benchmarks_drive_is_a_route_of_the_console(app):
    adapter = app.url_map.bind("localhost")
    for path in (pages.CUSTOMERS, pages.ORDERS, pages.customer(7), pages.order(7), pages.search_found(7)):
        endpoint, _ = adapter.match(path.partition("?")[0])
        assert not endpoint.startswith(("stock", "tuned", "bench")), path


def test_list_urls_quote_their_values():
    assert pages.listing("customers") == pages.CUSTOMERS
    assert pages.search("weber.4990") == f"{pages.CUSTOMERS}?q=weber.4990"
    assert pages.listing("orders", sort="-total", after="2024-01-01T10:00:00~5") == \
        f"{pages.ORDERS}?sort=-total&after=2024-01-01T10%3A00%3A00~5"
    assert pages.search("a b&c@x") == f"{pages.CUSTOMERS}?q=a%20b%26c%40x"


def test_each_offered_sort_names_a_real_column_of_its_table(app):
    from admin_tasks.shop_schema import Customer, Order

    shapes = pages.list_shapes(app)
    for sorts, model in ((pages.sorts(shapes["customers"]), Customer), (pages.sorts(shapes["orders"]), Order)):
        assert sorts and all(sort.column in model.__table__.c for sort in sorts)
        assert {sort.param for sort in sorts if sort.descending} == {"-" + sort.param for sort in sorts
                                                                    if not sort.descending}
