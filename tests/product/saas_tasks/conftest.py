"""The app of the SaaS's task tests: PRODUCT_PACKAGE is this package, and its target database holds the tables
the package declares (console.tasks.testing.create_product_tables). The kit's fixtures build on it."""
import pytest

from console import create_app
from console.migrations import upgrade_console
from console.tasks.testing import create_product_tables
from tests.conftest import config_for


@pytest.fixture(scope="session")
def app(test_databases):
    app = create_app(config_for(test_databases.create(), PRODUCT_PACKAGE=__package__))
    upgrade_console(app.extensions["console_db"].console_engine)
    create_product_tables(app)
    yield app
    app.extensions["console_db"].dispose()
