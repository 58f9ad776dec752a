"""The OpenAPI document made readable: operations grouped by tag, and every schema flattened into rows of fields.

The API reference page shows this; it reads the same document that GET /api/v1/openapi.json serves, so the
page and the document cannot disagree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

# The order a reader wants: what they call first, then what follows from it; any other tag comes after.
TAG_ORDER = ("tasks", "task", "runs", "tickets", "runbooks", "stats", "audit")
MAX_DEPTH = 3  # nested inline objects deeper than this are shown as "object"
STATUS_NAMES = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                404: "Not Found", 409: "Conflict", 422: "Unprocessable Content", 429: "Too Many Requests",
                503: "Service Unavailable"}


@dataclass(frozen=True)
class Field:
    """One member of a body or an answer: `params.order_id`, `rows[].tickets`."""

    name: str
    type: str
    link: str  # the named schema this member is, when it is one ("" otherwise)
    required: bool
    notes: tuple[str, ...]  # meaning, choices, limits, format, default
    patterns: tuple[str, ...]  # regular expressions the value must (or, prefixed "not ", must not) match
    depth: int


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query or header
    required: bool
    type: str
    notes: tuple[str, ...]
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    status: str
    reason: str  # the HTTP reason phrase
    description: str
    link: str  # the named schema of the answer's body ("" for an inline one)
    type: str  # an inline body's type ("" when there is no body)
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Endpoint:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    body: tuple[Field, ...] | None  # None: the operation takes no body
    body_link: str
    body_required: bool
    body_rules: tuple[str, ...]  # rules across members, such as a member required when another has a value
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Section:
    tag: str
    anchor: str
    endpoints: tuple[Endpoint, ...]


@dataclass(frozen=True)
class Schema:
    name: str
    anchor: str
    description: str
    fields: tuple[Field, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    openapi: str
    description: str
    auth: tuple[tuple[str, str], ...]  # (how to send it, what it is)
    sections: tuple[Section, ...]
    schemas: tuple[Schema, ...]

    @property
    def paths(self) -> list[str]:
        return sorted({endpoint.path for section in self.sections for endpoint in section.endpoints})


def schema_anchor(name: str) -> str:
    return "schema-" + _slug(name)


def build_reference(document: dict) -> Reference:
    """The whole document as the page shows it."""
    reader = _Reader(document)
    info = document.get("info", {})
    return Reference(title=str(info.get("title", "")), version=str(info.get("version", "")),
                     openapi=str(document.get("openapi", "")), description=str(info.get("description", "")),
                     auth=reader.auth(), sections=reader.sections(), schemas=reader.schemas())


class _Reader:
    def __init__(self, document: dict):
        self.document = document
        components = document.get("components", {})
        self.components = components.get("schemas", {})
        self.responses = components.get("responses", {})

    def auth(self) -> tuple[tuple[str, str], ...]:
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        used = [name for requirement in self.document.get("security", []) for name in requirement] or list(schemes)
        lines = []
        for name in used:
            scheme = schemes.get(name, {})
            if scheme.get("type") == "http":
                how = f"`Authorization: {str(scheme.get('scheme', '')).capitalize()} <token>`"
            elif scheme.get("type") == "apiKey":
                how = f"`{scheme.get('name', '')}` in the {scheme.get('in', '')}"
            else:
                how = str(scheme.get("type", name))
            lines.append((how, str(scheme.get("description", ""))))
        return tuple(lines)

    def sections(self) -> tuple[Section, ...]:
        grouped: dict[str, list[Endpoint]] = {}
        for path, operations in self.document.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                tag = (operation.get("tags") or ["other"])[0]
                grouped.setdefault(str(tag), []).append(self.endpoint(path, method, operation))
        return tuple(Section(tag=tag, anchor="tag-" + _slug(tag), endpoints=tuple(grouped[tag]))
                     for tag in sorted(grouped, key=_tag_key))

    def endpoint(self, path: str, method: str, operation: dict) -> Endpoint:
        body = operation.get("requestBody")
        body_schema = _json_schema(body) if body else None
        merged = self.merged(body_schema) if body_schema is not None else {}
        return Endpoint(
            anchor="op-" + _slug(str(operation.get("operationId") or f"{method} {path}")),
            method=method.upper(), path=path, summary=str(operation.get("summary", "")),
            description=str(operation.get("description", "")),
            parameters=tuple(self.parameter(item) for item in operation.get("parameters", [])),
            body=None if body_schema is None else tuple(self.fields(body_schema)),
            body_link=_ref_name(body_schema) if body_schema else "", body_required=bool(body and body.get("required")),
            body_rules=_rules(merged), answers=tuple(self.answer(status, answer) for status, answer in
                                                     sorted(operation.get("responses", {}).items())))

    def parameter(self, item: dict) -> Parameter:
        item = self.resolve(item)
        schema = item.get("schema", {})
        notes, patterns = self.notes(schema)
        if item.get("description"):
            notes = (str(item["description"]), *notes)
        return Parameter(name=str(item.get("name", "")), location=str(item.get("in", "")),
                         required=bool(item.get("required")), type=self.type_of(schema), notes=notes,
                         patterns=patterns)

    def answer(self, status: str, answer: dict) -> Answer:
        answer = self.resolve(answer)
        schema = _json_schema(answer)
        link = _ref_name(schema) if schema else ""
        fields = tuple(self.fields(schema)) if schema and not link else ()
        reason = STATUS_NAMES.get(int(status), "") if str(status).isdigit() else ""
        return Answer(status=str(status), reason=reason, description=str(answer.get("description", "")),
                      link=link, type=self.type_of(schema) if schema and not link else "", fields=fields)

    def schemas(self) -> tuple[Schema, ...]:
        return tuple(Schema(name=name, anchor=schema_anchor(name), description=str(schema.get("description", "")),
                            fields=tuple(self.fields(schema)), rules=_rules(self.merged(schema)))
                     for name, schema in sorted(self.components.items()))

    def resolve(self, schema):
        """Follow `$ref`s to components (a reference to itself or a missing one stops as it is)."""
        seen = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
            seen.add(schema["$ref"])
            kind, _, name = schema["$ref"].removeprefix("#/components/").partition("/")
            target = {"schemas": self.components, "responses": self.responses}.get(kind, {}).get(name)
            if not isinstance(target, dict):
                break
            schema = target
        return schema if isinstance(schema, dict) else {}

    def merged(self, schema) -> dict:
        """An `allOf` as one object schema: members and required names of every part, later parts winning."""
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        properties, required = dict(merged.get("properties", {})), list(merged.get("required", []))
        for part in schema["allOf"]:
            part = self.merged(part)
            for name, value in part.get("properties", {}).items():
                properties[name] = {**self.resolve(properties.get(name, {})), **value} if name in properties else value
            required += [name for name in part.get("required", []) if name not in required]
            merged.update({key: value for key, value in part.items() if key not in ("properties", "required")})
        merged["properties"], merged["required"] = properties, required
        return merged

    def fields(self, schema, prefix: str = "", depth: int = 0) -> list[Field]:
        schema = self.merged(schema)
        required = set(schema.get("required", []))
        rows = []
        for name, member in schema.get("properties", {}).items():
            link = _ref_name(member) or _ref_name(member.get("items") if isinstance(member, dict) else None)
            notes, patterns = self.notes(member)
            rows.append(Field(name=prefix + str(name), type=self.type_of(member), link=link,
                              required=name in required, notes=notes, patterns=patterns, depth=depth))
            if link or depth >= MAX_DEPTH:
                continue
            inner = self.merged(member)
            if inner.get("properties"):
                rows += self.fields(inner, f"{prefix}{name}.", depth + 1)
            elif isinstance(inner.get("items"), dict) and not _ref_name(inner["items"]) and \
                    self.merged(inner["items"]).get("properties"):
                rows += self.fields(inner["items"], f"{prefix}{name}[].", depth + 1)
        return rows

    def type_of(self, schema) -> str:
        if not isinstance(schema, dict):
            return "any"
        if _ref_name(schema):
            return _ref_name(schema)
        schema = self.merged(schema)
        for combiner in ("anyOf", "oneOf"):
            if schema.get(combiner):
                return " or ".join(dict.fromkeys(self.type_of(option) for option in schema[combiner]))
        kind = schema.get("type")
        if isinstance(kind, list):
            text = " or ".join(str(item) for item in kind)
        elif kind == "array":
            text = "array of " + self.type_of(schema.get("items", {})) if schema.get("items") else "array"
        elif kind == "string" and schema.get("maxLength") == 0:
            text = "empty string"
        elif kind:
            text = str(kind)
        elif "enum" in schema or "const" in schema:
            values = schema.get("enum", [schema.get("const")])
            text = " or ".join(dict.fromkeys(_json_type(value) for value in values))
        else:
            text = "object" if schema.get("properties") else "any"
        special = schema.get("x-console-type")
        if special and special not in ("int", "str", "bool", text):
            text += f" ({special})"
        return text

    def notes(self, schema) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What a reader needs to send a valid value: meaning, choices, limits, format, default, patterns."""
        schema = self.merged(schema) if isinstance(schema, dict) and not _ref_name(schema) else {}
        notes, patterns = [], []
        title, description = schema.get("title"), schema.get("description")
        notes += [str(text) for text in (title, description) if text]
        if "enum" in schema:
            notes.append("one of " + ", ".join(f"`{_shown(value)}`" for value in schema["enum"]))
        if "const" in schema:
            notes.append(f"always `{_shown(schema['const'])}`")
        notes += _limits(schema)
        if schema.get("format"):
            notes.append(f"format: {schema['format']}")
        if "default" in schema:
            notes.append(f"default `{_shown(schema['default'])}`")
        if schema.get("additionalProperties") is False:
            notes.append("no other members")
        if schema.get("pattern"):
            patterns.append(str(schema["pattern"]))
        if isinstance(schema.get("not"), dict) and schema["not"].get("pattern"):
            patterns.append("not " + str(schema["not"]["pattern"]))
        for combiner in ("anyOf", "oneOf"):
            for option in schema.get(combiner, []):
                more, more_patterns = self.notes(option)
                notes += [note for note in more if note not in notes]
                patterns += [pattern for pattern in more_patterns if pattern not in patterns]
        return tuple(notes), tuple(patterns)


def _limits(schema: dict) -> list[str]:
    notes = []
    for low, high, unit in (("minLength", "maxLength", " characters"), ("minItems", "maxItems", " items"),
                            ("minimum", "maximum", "")):
        lowest, highest = schema.get(low), schema.get(high)
        if lowest is not None and highest is not None:
            notes.append(f"{lowest} to {highest}{unit}")
        elif lowest is not None and not (low == "minLength" and lowest == 0):
            notes.append(f"at least {lowest}{unit}")
        elif highest is not None and not (high == "maxLength" and highest == 0):
            notes.append(f"at most {highest}{unit}")
    if "exclusiveMinimum" in schema:
        notes.append(f"more than {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema:
        notes.append(f"less than {schema['exclusiveMaximum']}")
    return notes


def _rules(schema: dict) -> tuple[str, ...]:
    """A conditional requirement (`if` one member is a value, `then` others are required) in words."""
    condition, then = schema.get("if"), schema.get("then")
    if not isinstance(condition, dict) or not isinstance(then, dict) or not then.get("required"):
        return ()
    whens = [f"`{name}` is `{_shown(value['const'])}`" for name, value in condition.get("properties", {}).items()
             if isinstance(value, dict) and "const" in value]
    names = ", ".join(f"`{name}`" for name in then["required"])
    return (f"{names} required when {' and '.join(whens)}",) if whens else ()


def _json_schema(holder) -> dict | None:
    content = holder.get("content", {}) if isinstance(holder, dict) else {}
    media = content.get("application/json") or next(iter(content.values()), None)
    schema = media.get("schema") if isinstance(media, dict) else None
    return schema if isinstance(schema, dict) else None


def _ref_name(schema) -> str:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and \
            schema["$ref"].startswith("#/components/schemas/"):
        return schema["$ref"].rsplit("/", 1)[1]
    return ""


def _json_type(value) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}.get(
        type(value), "object")


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _tag_key(tag: str) -> tuple:
    head = tag.split(" ", 1)[0]
    return (TAG_ORDER.index(head) if head in TAG_ORDER else len(TAG_ORDER), tag)


def _slug(text: str) -> str:
    return "".join(char if char.isascii() and char.isalnum() else "-" for char in text).strip("-").lower() or "x"
