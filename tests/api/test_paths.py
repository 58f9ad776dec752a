"""Odd paths under /api/v1: doubled slashes, trailing slashes and unknown segments answer JSON, never a redirect."""
import pytest

ODD_PATHS = [
    ("POST", "/api/v1/tasks/0//runs"), ("POST", "/api/v1/tasks//unlock_account/runs"),
    ("POST", "/api/v1//tasks/unlock_account/preview"), ("GET", "/api/v1/runs//1"), ("GET", "/api/v1//audit"),
    ("GET", "/api/v1/stats//deflection"), ("POST", "/api/v1/runs/1//approve"), ("GET", "/api/v1/runbooks//x"),
    ("GET", "/api/v1/tasks/"), ("GET", "/api/v1/runs/"), ("GET", "/api/v1/"), ("GET", "/api/v1"),
    ("GET", "/api/v1/runs/1/"), ("GET", "/api/v1/tasks/unlock_account/"), ("GET", "/api/v1/runs/-1"),
    ("POST", "/api/v1/tasks/unlock_account"), ("DELETE", "/api/v1/runs/1"), ("GET", "/api/v2/tasks"),
    ("GET", "/api/v1/tasks/%00"), ("GET", "/api/v1/stats/deflection/"),
]


@pytest.mark.parametrize(("method", "path"), ODD_PATHS)
def test_an_odd_path_is_a_json_error_never_a_redirect(client, api_token, method, path):
    """Werkzeug merged the slashes of "/tasks/0//runs" and answered an HTML 308."""
    _user, headers = api_token("admin")
    response = client.open(path, method=method, headers=headers, json={} if method == "POST" else None)
    assert response.status_code in (404, 405), (response.status_code, response.headers.get("Location"))
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] in ("not_found", "method_not_allowed")


def test_no_api_route_merges_slashes(app):
    merging = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") and rule.merge_slashes]
    assert not merging
