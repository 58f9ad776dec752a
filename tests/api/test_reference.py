"""console/api/reference.py: schemas flattened into rows a reader can follow."""
from __future__ import annotations

from console.api.reference import build_reference

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "T", "version": "1", "description": "d"},
    "security": [{"bearerAuth": []}],
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "a token"}},
        "schemas": {
            "Base": {"type": "object", "properties": {"params": {"type": "object", "description": "the parameters"},
                                                      "reason": {"type": "string", "minLength": 1, "maxLength": 9}},
                     "required": ["reason"]},
            "Item": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "List": {"type": "object",
                     "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
        },
        "responses": {"404": {"description": "No such thing", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Item"}}}}},
    },
    "paths": {
        "/things/{id}": {"post": {
            "operationId": "make_thing", "summary": "Make", "tags": ["things"],
            "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "integer", "minimum": 1}},
                           {"in": "query", "name": "limit", "schema": {"anyOf": [
                               {"type": "integer", "maximum": 5}, {"type": "string", "maxLength": 0}]}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["params"], "properties": {"params": {
                    "type": "object", "additionalProperties": False, "required": ["kind"],
                    "properties": {"kind": {"enum": ["a", "b"], "default": "a"},
                                   "email": {"type": "string", "format": "email", "not": {"pattern": "x$"}}}}},
                 "if": {"properties": {"kind": {"const": "b"}}}, "then": {"required": ["email"]}},
            ]}}}},
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/List"}}}}, "404": {"$ref": "#/components/responses/404"}},
        }},
    },
}


def test_a_body_of_all_of_parts_is_one_table_with_nested_members():
    endpoint = build_reference(DOCUMENT).sections[0].endpoints[0]
    rows = {field.name: field for field in endpoint.body}
    assert list(rows) == ["params", "params.kind", "params.email", "reason"]
    assert rows["params"].required and rows["reason"].required and rows["params.kind"].required
    assert not rows["params.email"].required and rows["params.email"].depth == 1
    assert "the parameters" in rows["params"].notes and "no other members" in rows["params"].notes
    assert rows["params.kind"].type == "string"
    assert rows["params.kind"].notes == ("one of `a`, `b`", "default `a`")
    assert rows["params.email"].notes == ("format: email",) and rows["params.email"].patterns == ("not x$",)
    assert rows["reason"].notes == ("1 to 9 characters",)
    assert endpoint.body_rules == ("`email` required when `kind` is `b`",)
    assert endpoint.body_required and endpoint.body_link == ""


def test_parameters_answers_and_sign_in_are_read_from_the_document():
    reference = build_reference(DOCUMENT)
    endpoint = reference.sections[0].endpoints[0]
    assert (endpoint.method, endpoint.path, endpoint.anchor) == ("POST", "/things/{id}", "op-make-thing")
    path, query = endpoint.parameters
    assert (path.location, path.required, path.type, path.notes) == ("path", True, "integer", ("at least 1",))
    assert query.type == "integer or empty string" and query.notes == ("at most 5",)
    ok, missing = endpoint.answers
    assert (ok.status, ok.reason, ok.link) == ("200", "OK", "List")
    assert (missing.status, missing.description, missing.link) == ("404", "No such thing", "Item")
    assert reference.auth == (("`Authorization: Bearer <token>`", "a token"),)
    listed = {schema.name: schema for schema in reference.schemas}["List"].fields[0]
    assert (listed.type, listed.link) == ("array of Item", "Item")
    assert reference.paths == ["/things/{id}"]


def test_a_reference_to_itself_or_to_nothing_does_not_loop():
    document = {"paths": {}, "components": {"schemas": {
        "Loop": {"$ref": "#/components/schemas/Loop"},
        "Tree": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Tree"},
                                                  "gone": {"$ref": "#/components/schemas/Missing"}}}}}}
    schemas = {schema.name: schema for schema in build_reference(document).schemas}
    assert schemas["Loop"].fields == ()
    assert [(field.name, field.type) for field in schemas["Tree"].fields] == [("child", "Tree"), ("gone", "Missing")]
