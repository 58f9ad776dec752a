"""Fixtures of the task framework's own tests (defined with the fake task packages they use)."""
from tests.tasks.fake_tasks import (attempt, audit_for, counts, fake_tasks, fresh, request_for,  # noqa: F401
                                    shop_order, staff, within)
