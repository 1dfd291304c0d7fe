"""Registrations as projects write them: what ``analysis.registrations`` reads from the source agrees
with what kombu does with the same code.

Each shape is a small project written to a temporary folder. A fresh interpreter imports it (kombu's
type registry is per process) and pushes a registered instance and a subclass instance through
kombu's json ``dumps``/``loads``; the test compares the classes that arrive with the registration the
checker reads: ``keeps_subclass`` true exactly when the subclass arrives as itself.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_boundary.analysis.registrations import Found, Module, find_registrations

SEED_HELPER = '''
from importlib import import_module
from typing import Any, Literal, Protocol, TypedDict, TypeVar

from kombu.utils.json import register_type
from pydantic import BaseModel

T = TypeVar("T")


def load_from_path(module: str, qualname: str) -> Any:
    m = import_module(module)
    o: Any = m
    for a in qualname.split("."):
        o = getattr(o, a)
    return o


class Preserializer(Protocol):
    @classmethod
    def compatible_with(cls, type_: type) -> Literal[True]: ...
    @classmethod
    def pack(cls, obj: Any) -> Any: ...
    @classmethod
    def unpack(cls, data: Any) -> Any: ...


class PackedModel(TypedDict):
    module: str
    qualname: str
    dump: dict[str, Any]


class PydanticModelDump:
    @classmethod
    def compatible_with(cls, type_: type) -> Literal[True]:
        if not issubclass(type_, BaseModel):
            raise TypeError("PydanticModelDump requires a type that inherits from BaseModel")
        return True

    @classmethod
    def pack(cls, obj: BaseModel) -> PackedModel:
        return {
            "module": obj.__class__.__module__,
            "qualname": obj.__class__.__qualname__,
            "dump": obj.model_dump(),
        }

    @classmethod
    def unpack(cls, data: PackedModel) -> BaseModel:
        t = load_from_path(data["module"], data["qualname"])
        if not (isinstance(t, type) and issubclass(t, BaseModel)):
            raise TypeError(f"Cannot unpack {t}: not a Pydantic model")
        return t(**data["dump"])


class register_preserializer:
    def __init__(self, preserializer: Preserializer):
        self.preserializer = preserializer

    def __call__(self, type_: type[T]) -> type[T]:
        if "<locals>" in type_.__qualname__ or "__main__" in type_.__module__:
            raise TypeError(
                "You cannot register preserializers on objects that aren't directly accessible at import time."
            )
        try:
            self.preserializer.compatible_with(type_)
        except Exception as e:
            raise TypeError(f"{type_} is not compatible with {self.preserializer}: {e}") from e
        register_type(
            type_,
            f"{type_.__module__}.{type_.__qualname__}",
            encoder=self.preserializer.pack,
            decoder=self.preserializer.unpack,
        )
        return type_
'''

SHAPES: dict[str, dict[str, str]] = {
    # The seed pattern: a decorator-factory class whose __call__ registers, applied by hand to BaseModel.
    "seed_factory_class": {
        "proj/__init__.py": "",
        "proj/serialization.py": SEED_HELPER,
        "proj/app.py": """
            from pydantic import BaseModel
            from proj.serialization import PydanticModelDump, register_preserializer

            register_preserializer(PydanticModelDump)(BaseModel)
        """,
        "proj/models.py": """
            from pydantic import BaseModel

            class Invoice(BaseModel):
                amount: int

            class Refund(Invoice):
                reason: str = "late"

            SENT = Invoice(amount=3)
            SUBCLASS = Refund(amount=3)
        """,
    },
    # The same helper as a class decorator.
    "seed_factory_as_decorator": {
        "proj/__init__.py": "",
        "proj/serialization.py": SEED_HELPER,
        "proj/app.py": "import proj.models\n",
        "proj/models.py": """
            from pydantic import BaseModel
            from proj.serialization import PydanticModelDump, register_preserializer

            @register_preserializer(PydanticModelDump)
            class Invoice(BaseModel):
                amount: int

            class Refund(Invoice):
                reason: str = "late"

            SENT = Invoice(amount=3)
            SUBCLASS = Refund(amount=3)
        """,
    },
    # A decorator function whose decoder rebuilds the decorated class itself.
    "json_record_decorator": {
        "proj/__init__.py": "",
        "proj/records.py": """
            import dataclasses
            from kombu.utils.json import register_type

            def json_record(cls):
                register_type(cls, cls.__qualname__, encoder=dataclasses.asdict, decoder=lambda data: cls(**data))
                return cls
        """,
        "proj/app.py": "import proj.models\n",
        "proj/models.py": """
            import dataclasses
            from proj.records import json_record

            @json_record
            @dataclasses.dataclass
            class Point:
                x: int
                y: int

            @dataclasses.dataclass
            class Origin(Point):
                pass

            SENT = Point(1, 2)
            SUBCLASS = Origin(0, 0)
        """,
    },
    # A loop over a literal tuple; the encoder records type(o), the decoder reads a dict of classes.
    "loop_with_class_table": {
        "proj/__init__.py": "",
        "proj/app.py": """
            from kombu.utils.json import register_type
            from proj.models import Money, Rate, BigMoney

            CLASSES = {cls.__name__: cls for cls in (Money, Rate, BigMoney)}

            for cls in (Money, Rate):
                register_type(cls, cls.__name__, encoder=lambda o: {"cls": type(o).__name__, "value": o.value},
                              decoder=lambda data: CLASSES[data["cls"]](data["value"]))
        """,
        "proj/models.py": """
            class Money:
                def __init__(self, value):
                    self.value = value

            class Rate(Money):
                pass

            class BigMoney(Money):
                pass

            SENT = Money(5)
            SUBCLASS = BigMoney(5)
        """,
    },
    # A helper calling a helper: the inner one registers with a plain decoder (the registered class).
    "helper_calling_helper": {
        "proj/__init__.py": "",
        "proj/codecs.py": """
            from kombu.utils.json import register_type

            def register_value(cls):
                register_type(cls, cls.__name__, lambda o: o.value, lambda value: cls(value))

            def register_all(first, *rest):
                register_value(first)
        """,
        "proj/app.py": """
            from proj.codecs import register_all
            from proj.models import Money

            register_all(Money)
        """,
        "proj/models.py": """
            class Money:
                def __init__(self, value):
                    self.value = value

            class BigMoney(Money):
                pass

            SENT = Money(5)
            SUBCLASS = BigMoney(5)
        """,
    },
}

RUN = """
import json, sys
import proj.app, proj.models
from kombu.utils.json import dumps, loads
result = {}
for name in ("SENT", "SUBCLASS"):
    value = getattr(proj.models, name)
    arrived = loads(dumps(value))
    result[name] = f"{type(arrived).__module__}.{type(arrived).__qualname__}"
print(json.dumps(result))
"""


def write(root: Path, files: dict[str, str]) -> list[Module]:
    modules = []
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        source = textwrap.dedent(text).lstrip("\n")
        path.write_text(source, encoding="utf-8")
        name = relative[:-3].replace("/", ".").removesuffix(".__init__")
        modules.append(Module(name, relative, ast.parse(source), relative.endswith("__init__.py")))
    return modules


def arrivals(root: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": ""})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def registration_for(found: list[Found], fullnames: set[str]) -> Found:
    matches = [entry for entry in found if entry.fullname in fullnames]
    assert len(matches) == 1, found
    return matches[0]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_what_the_checker_reads_is_what_kombu_does(shape: str, tmp_path: Path) -> None:
    modules = write(tmp_path, SHAPES[shape])
    arrived = arrivals(tmp_path)
    found = find_registrations(modules)
    # The registered class (its import path as the source spells it).
    sent = arrived["SENT"]
    entry = registration_for(found, {sent, "pydantic.BaseModel"})
    assert entry.marker is not None, "two-way: the registered class arrives as itself"
    subclass_kept = arrived["SUBCLASS"] != sent
    assert entry.keeps_subclass is subclass_kept, (arrived, entry)


def test_the_shapes_cover_both_subclass_behaviours(tmp_path: Path) -> None:
    kept = set()
    for shape, files in SHAPES.items():
        root = tmp_path / shape
        arrived = arrivals(root) if root.exists() else (write(root, files) and arrivals(root))
        kept.add(arrived["SUBCLASS"] != arrived["SENT"])
    assert kept == {True, False}
