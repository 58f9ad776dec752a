"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document of every /api/v1 route and every task."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from console.api import bp
from console.api.describe import described
from console.api.openapi import UndocumentedRoute, api_rules, build_document, openapi_path, task_path
from console.tasks.registry import task_registry
from tests.security.policy import POLICY


@pytest.fixture
def document(client, api_token):
    _, headers = api_token("product_owner")  # the role with the fewest rights may read it too
    response = client.get("/api/v1/openapi.json", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_in_the_url_map_is_in_the_document(app, document):
    missing = []
    for rule, methods in api_rules(app):
        paths = ([task_path(rule.rule, task.name) for task in task_registry(app)]
                 if described(app.view_functions[rule.endpoint]).per_task else [openapi_path(rule.rule)])
        missing += [f"{method} {path}" for path in paths for method in methods
                    if method.lower() not in document["paths"].get(path, {})]
    assert not missing
    assert len(list(api_rules(app))) >= 20


def test_a_route_without_a_declaration_fails_the_build(app):
    view = app.view_functions["api.list_tasks"]
    declaration = view.openapi
    del view.openapi
    try:
        with pytest.raises(UndocumentedRoute, match="/api/v1/tasks "):
            build_document(app)
    finally:
        view.openapi = declaration


def test_each_task_has_its_own_paths_with_its_parameter_schema(app, document):
    for task in task_registry(app):
        for action in ("preview", "runs"):
            operation = document["paths"][f"{bp.url_prefix}/tasks/{task.name}/{action}"]["post"]
            body = operation["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]
            params = body["properties"]["params"]
            assert params["properties"].keys() == task.json_schema()["properties"].keys()
            assert set(operation["responses"]) >= {"400", "401", "403", "422", "503"}


def test_errors_use_the_one_error_format_and_runs_list_is_as_the_contract_says(document):
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]
    runs = document["paths"][f"{bp.url_prefix}/runs"]["get"]
    assert {p["name"] for p in runs["parameters"]} == {"ticket", "customer", "task", "status", "actor", "order",
                                                       "record", "record_key", "before", "limit"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_without_a_token_the_document_is_a_401(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_logged_in_browser_may_read_it(client, login_as):
    login_as("agent")
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_a_405_names_the_allowed_methods(client, api_token):
    _, headers = api_token("admin")
    response = client.put("/api/v1/tasks", headers=headers)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_a_task_schema_says_what_the_parameters_accept(app):
    """Blank text, control characters and special-use email domains are refused: the schema says so."""
    schema = task_registry(app).get("change_email").json_schema()["properties"]
    assert schema["new_email"]["minLength"] == 1 or "pattern" in schema["new_email"]
    special = re.compile(schema["new_email"]["not"]["pattern"])
    assert special.search("someone@shop.test") and not special.search("someone@example.com")
    address = task_registry(app).get("update_shipping_address").json_schema()["properties"]["city"]
    assert re.search(address["pattern"], "Lyon") and not re.search(address["pattern"], "  ")
    assert not re.search(address["pattern"], "Ly\x01on")



def test_every_route_that_names_a_permission_names_exactly_the_roles_the_policy_lets_in(document):
    checked = 0
    for methods in document["paths"].values():
        for method, operation in methods.items():
            named = re.search(r"Needs the permission .*\(roles: ([^)]*)\)", operation.get("description", ""))
            if named:
                policy = POLICY[("api." + operation["operationId"], method.upper())]
                assert set(named.group(1).split(", ")) == set(policy), operation["operationId"]
                checked += 1
    assert checked >= 15


def test_every_array_says_what_it_holds(document):
    """Client generators (openapi-python-client among them) drop a schema holding an array without `items`."""
    bare, stack = [], [("#", document)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            kinds = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
            if "array" in kinds and "items" not in node and "prefixItems" not in node:
                bare.append(where)
            stack += [(f"{where}/{key}", value) for key, value in node.items()]
        elif isinstance(node, list):
            stack += [(f"{where}/{index}", value) for index, value in enumerate(node)]
    assert not bare, bare
