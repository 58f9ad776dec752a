"""The demo shop's tables; kept importable here, they now live in admin_tasks/shop/schema.py."""
from admin_tasks.shop.schema import *  # noqa: F401,F403
