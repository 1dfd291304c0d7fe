"""docs/configuration.md documents exactly the keys the loader accepts, with their defaults."""

import re
from pathlib import Path

from celery_boundary.core.config import Config, parse
from celery_boundary.core.records import fields

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented_rows() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)` \| [^|]+ \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


def test_every_key_is_documented_and_nothing_else() -> None:
    keys = {f.name for f in fields(Config) if f.name != "source"}
    assert set(documented_rows()) == keys


def test_documented_int_and_bool_defaults_match_the_loader() -> None:
    defaults = Config()
    for key, text in documented_rows().items():
        value = getattr(defaults, key)
        if isinstance(value, bool):
            assert text == f"`{str(value).lower()}`", key
        elif isinstance(value, int):
            assert text == str(value), key


def test_the_example_table_on_the_page_is_valid() -> None:
    import tomllib

    block = DOC.read_text(encoding="utf-8").split("```toml", 1)[1].split("```", 1)[0]
    table = tomllib.loads(block)["tool"]["celery_boundary"]
    assert parse(table).app == "proj.celery"
