"""The public API's static types, checked by mypy --strict: every form gives back the class it was given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SNIPPET = '''\
from dataclasses import dataclass
from typing import Any
from pydantic import BaseModel
from celery_boundary.runtime import DataclassPreserializer, Preserializer, register_preserializer

class Address(BaseModel):
    city: str

@register_preserializer()
@dataclass
class A:
    n: int

@register_preserializer(DataclassPreserializer())
@dataclass
class B:
    n: int

@register_preserializer(include_subclasses=True)
@dataclass
class C:
    n: int

@register_preserializer
@dataclass
class D:
    n: int

class Money:
    pass

class MoneyPreserializer:
    def compatible_with(self, cls: type[Any]) -> None:
        return None
    def pack(self, obj: Money, cls: type[Money]) -> str:
        return ""
    def unpack(self, data: Any, cls: type[Money]) -> Money:
        return cls()

class Half:
    def pack(self, obj: Money) -> str:
        return ""

reveal_type(register_preserializer(Address))
reveal_type(A(1))
reveal_type(B(1))
reveal_type(C(1))
reveal_type(D(1))
accepted: Preserializer[Money] = MoneyPreserializer()
register_preserializer(Money, preserializer=MoneyPreserializer())
register_preserializer(3)
register_preserializer(Money, preserializer=Half())
'''


def test_forms_keep_the_class_and_reject_non_preserializers(tmp_path: Path) -> None:
    (tmp_path / "snippet.py").write_text(SNIPPET)
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary", "--hide-error-context",
         "--config-file=", "snippet.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    lines = [line.split(": ", 1)[1] for line in out.stdout.splitlines() if ": note:     " not in line]
    assert lines == [
        'note: Revealed type is "def (*, city: str) -> snippet.Address"',
        'note: Revealed type is "snippet.A"',
        'note: Revealed type is "snippet.B"',
        'note: Revealed type is "snippet.C"',
        'note: Revealed type is "snippet.D"',
        'error: No overload variant of "register_preserializer" matches argument type "int"  [call-overload]',
        "note: Possible overload variants:",
        'error: No overload variant of "register_preserializer" matches argument types "type[Money]", "Half"  [call-overload]',
        "note: Possible overload variants:",
    ], out.stdout + out.stderr
