"""A 403 says in words whose role may not: the role's title ("Product owner"), never its slug (product_owner).

The error's shape is the contract and does not change; the slug stays where it is data (a user's `role`).
"""
import pytest

ORDER_REFUND = {"params": {"order_id": 1004, "amount_cents": 3000}, "ticket": "T-1", "reason": "returned an item"}


@pytest.mark.parametrize("role, method, path, body, message", [
    ("product_owner", "post", "/api/v1/tasks/refund_order/runs", ORDER_REFUND,
     "your role (Product owner) may not run refund_order"),
    ("product_owner", "post", "/api/v1/tasks/refund_order/preview", ORDER_REFUND,
     "your role (Product owner) may not run refund_order"),
    ("product_owner", "get", "/api/v1/runs", None, "your role (Product owner) may not read task runs"),
    ("product_owner", "get", "/api/v1/tickets", None, "your role (Product owner) may not read tickets"),
    ("product_owner", "get", "/api/v1/audit", None, "your role (Product owner) may not do this"),
    ("agent", "get", "/metrics", None, "your role (Agent) may not read the metrics"),
])
def test_a_403_names_the_role_by_its_title(client, api_token, role, method, path, body, message):
    _user, headers = api_token(role)
    response = getattr(client, method)(path, headers=headers, **({"json": body} if body is not None else {}))
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json() == {"error": {"code": "forbidden", "message": message, "fields": {}}}

