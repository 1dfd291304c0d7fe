"""``contracts export``: what each task's contract says (names, parameters, wire schemas, serializer,
queue), that the document is deterministic, and that every fixture's export is valid under the JSON
Schema the package ships."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from celery_boundary.analysis.symbols import collect_names
from celery_boundary.analysis.wire_schema import wire_type
from celery_boundary.gate.contracts import SCHEMA_FILE, export, render
from celery_boundary.gate.files import discover

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
_MARKER = {"type": "object", "required": ["__type__", "__value__"], "additionalProperties": False}


def _export(root: Path, files: dict[str, str]) -> dict[str, Any]:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    document = export(discover([str(root)]), root)
    jsonschema.validate(document, SCHEMA)
    return document


def _task(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(task for task in document["tasks"] if task["name"] == name)


@pytest.mark.parametrize("fixture", ["shop", "newsroom", "twoapps"])
def test_every_fixture_exports_a_valid_deterministic_document(fixture: str) -> None:
    root = FIXTURES / fixture
    files = discover([str(root)])
    document = export(files, root)
    jsonschema.validate(document, SCHEMA)
    assert document["tasks"], fixture
    assert render(export(list(reversed(files)), root)) == render(document)


def _schema(annotation: str, serializer: str | None = "json", imports: str = "") -> tuple[object, str | None]:
    tree = ast.parse(imports)
    wire = wire_type(ast.parse(annotation, mode="eval").body, collect_names(tree), serializer)
    return wire.schema, wire.unresolved


@pytest.mark.parametrize(("annotation", "imports", "expected"), [
    ("int", "", {"type": "integer"}),
    ("float | None", "", {"anyOf": [{"type": "number"}, {"type": "null"}]}),
    ("Optional[str]", "from typing import Optional", {"anyOf": [{"type": "string"}, {"type": "null"}]}),
    ("t.List[bool]", "import typing as t", {"type": "array", "items": {"type": "boolean"}}),
    ("tuple[int, str]", "", {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                             "minItems": 2, "maxItems": 2}),
    ("tuple[int, ...]", "", {"type": "array", "items": {"type": "integer"}}),
    ("dict[int, str]", "", {"type": "object", "additionalProperties": {"type": "string"}}),
    ("Literal['a', 1]", "from typing import Literal", {"enum": ["a", 1]}),
    ("'list[int]'", "", {"type": "array", "items": {"type": "integer"}}),
    ("Any", "from typing import Any", {}),
    ("datetime.datetime", "import datetime", {
        **_MARKER, "properties": {"__type__": {"const": "datetime"}, "__value__": {"type": "string"}}}),
    ("UUID", "from uuid import UUID", {
        **_MARKER, "properties": {"__type__": {"const": "uuid"}, "__value__": {
            "type": "object", "properties": {"hex": {"type": "string"}}, "required": ["hex"]}}}),
])
def test_json_wire_schema(annotation: str, imports: str, expected: object) -> None:
    assert _schema(annotation, imports=imports) == (expected, None)


@pytest.mark.parametrize(("annotation", "serializer", "why"), [
    ("Order", "json", "'Order' is not a builtin or simple type"),
    ("set[int]", "json", "'set[int]' is not a builtin or simple type"),
    ("dict[tuple[int, int], str]", "json", "keys other than str"),
    ("dict[int, str]", "msgpack", "msgpack fails to decode keys other than str"),
    ("int", "pickle", "pickle carries Python objects"),
    ("int", None, "serializer is not statically known"),
    ("datetime", "yaml", "datetime under yaml"),
])
def test_what_has_no_schema_says_why(annotation: str, serializer: str | None, why: str) -> None:
    schema, unresolved = _schema(annotation, serializer, "from datetime import datetime")
    assert schema is None and unresolved is not None and why in unresolved


def test_a_task_contract(tmp_path: Path) -> None:
    document = _export(tmp_path, {"shop/__init__.py": "", "shop/tasks.py": """
        from celery import Celery, Task
        app = Celery("shop")
        app.conf.task_serializer = "json"
        app.conf.task_routes = {"shop.tasks.*": {"queue": "shop"}, "shop.exact": "exact"}

        @app.task(bind=True, pydantic=True, queue="money")
        def charge(self, order_id: int, /, currency: str = "EUR", *items: str, rush: bool, **extra) -> int:
            return order_id

        @app.task(name="shop.exact", serializer="msgpack")
        def exact(x: bytes) -> None: ...

        @app.task
        def routed(x): ...

        class Sync(Task):
            name = "shop.sync"
            def run(self, when: float) -> None: ...

        @app.task(name=NAME_FROM_SETTINGS)
        def unnamed(): ...
        """})
    charge = _task(document, "shop.tasks.charge")
    assert [(p["name"], p["kind"], p["required"], p.get("default")) for p in charge["parameters"]] == [
        ("order_id", "positional_only", True, None), ("currency", "positional_or_keyword", False, "'EUR'"),
        ("items", "var_positional", False, None), ("rush", "keyword_only", True, None),
        ("extra", "var_keyword", False, None)]
    assert charge["pydantic"] is True and charge["implicit_name"] is True
    assert charge["queue"] == {"name": "money", "source": "task"}
    assert charge["serializer"] == {"name": "json", "source": "settings"}
    assert charge["result"] == {"type": "int", "schema": {"type": "integer"}}
    exact = _task(document, "shop.exact")
    assert exact["implicit_name"] is False and exact["serializer"] == {"name": "msgpack", "source": "task"}
    assert exact["parameters"][0]["schema"] == {"contentEncoding": "binary"}
    assert exact["queue"] == {"name": "exact", "source": "task_routes"}
    assert _task(document, "shop.tasks.routed")["queue"] == {"name": "shop", "source": "task_routes"}
    assert _task(document, "shop.sync")["queue"] == {"name": "celery", "source": "default"}
    assert [p["name"] for p in _task(document, "shop.sync")["parameters"]] == ["when"]
    assert [u["dotted"] for u in document["unnamed"]] == ["shop.tasks.unnamed"]


def test_several_serializer_settings_leave_it_unknown(tmp_path: Path) -> None:
    document = _export(tmp_path, {
        "a.py": "task_serializer = 'json'\nCELERY_TASK_DEFAULT_QUEUE = 'work'\n",
        "b.py": "from celery import shared_task\nCELERY_TASK_SERIALIZER = 'yaml'\n@shared_task\ndef t(x: int): ...\n"})
    assert _task(document, "b.t")["queue"] == {"name": "work", "source": "default"}
    task = _task(document, "b.t")
    assert task["serializer"]["name"] is None and "several values: json, yaml" in task["serializer"]["note"]
    assert task["parameters"][0]["schema"] is None


def test_a_task_class_is_a_task_once_registered(tmp_path: Path) -> None:
    document = _export(tmp_path, {"jobs.py": """
        from celery import Celery, Task
        app = Celery("jobs")

        class Base(Task):
            def run(self, *args): ...

        class Sync(Task):
            def run(self, when: float) -> None: ...

        app.register_task(Sync())
        """})
    assert [task["name"] for task in document["tasks"]] == ["jobs.Sync"]
