"""docs/canvas.md and docs/mypy.md are executed through mypy with the plugin: in canvas.md the first
python block defines the tasks and every other block runs after it; mypy.md's blocks stand alone.

A ``# error: <text>  [code]`` comment (continued on ``#`` lines, ``...``
skipping part of the message) expects that error on one of the lines of code right above it (back to
the previous blank or comment line: the statement or definition it follows); ``reveal_type(x)  # T``
expects mypy to reveal ``T`` (module prefixes dropped; after ``T``, ``: ...`` explains); nothing else
may be reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(encoding="utf-8"), flags=re.S)


CANVAS = blocks("canvas.md")
#: (page, source): canvas.md's examples after its task definitions, mypy.md's as they are.
EXAMPLES = [("canvas.md", CANVAS[0])]
EXAMPLES += [("canvas.md", CANVAS[0] + "\n\n" + block) for block in CANVAS[1:]]
EXAMPLES += [("mypy.md", block) for block in blocks("mypy.md")]
REPORTED = re.compile(r"^[^:]+:(\d+): (error|note): (.*)$")
QUALIFIED = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")


def expectations(lines: list[str]) -> tuple[list[tuple[range, str]], dict[int, str]]:
    """([(lines the error may be on, expected text)], line -> expected revealed type), 1-based."""
    errors: list[tuple[range, str]] = []
    reveals: dict[int, str] = {}
    start = end = 0  # the run of code lines above the current line
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("# error:"):
            text = [stripped[len("# error:"):].strip()]
            while index + 1 < len(lines) and lines[index + 1].strip().startswith("#"):
                if lines[index + 1].strip().startswith("# error:"):
                    break
                index += 1
                text.append(lines[index].strip().lstrip("#").strip())
            errors.append((range(start, end + 1), " ".join(text)))
        elif stripped and not stripped.startswith("#"):
            if end != index:  # the line above was blank or a comment: a new run starts
                start = index + 1
            end = index + 1
            found = re.search(r"reveal_type\(.*\)\s+# ([\w.]+(?:\[.*\])?)", lines[index])
            if found:
                reveals[index + 1] = found.group(1).strip()
        index += 1
    return errors, reveals


def matches(expected: str, actual: str) -> bool:
    """Each part of ``expected`` between ``...`` appears in ``actual``, in order."""
    position = 0
    for part in (p.strip() for p in expected.split("...")):
        found = actual.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def test_the_pages_have_examples() -> None:
    assert len(CANVAS) >= 4 and "@app.task" in CANVAS[0]
    assert any(page == "mypy.md" for page, _ in EXAMPLES)


@pytest.mark.parametrize("example", range(len(EXAMPLES)), ids=lambda i: f"{EXAMPLES[i][0]}-{i}")
def test_example_reports_what_its_comments_say(example: int, tmp_path: Path, cache_dir: Path) -> None:
    source = EXAMPLES[example][1]
    lines = source.splitlines()
    errors, reveals = expectations(lines)
    module = tmp_path / "example.py"
    module.write_text(source)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nplugins = celery_boundary.mypy\n")
    stdout, _, _ = api.run(["--cache-dir", str(cache_dir), "--config-file", str(config), str(module)])
    unexpected: list[str] = []
    for line in stdout.splitlines():
        found = REPORTED.match(line)
        if found is None:
            continue
        number, kind, text = int(found.group(1)), found.group(2), found.group(3)
        if kind == "note" and text.startswith("Revealed type is "):
            revealed = QUALIFIED.sub(r"\1", text[len("Revealed type is "):].strip('"'))
            assert reveals.pop(number, None) == revealed, f"line {number}: {text}"
            continue
        if kind == "error":
            hit = next((e for e in errors if number in e[0] and matches(e[1], text)), None)
            if hit is None:
                unexpected.append(line)
            else:
                errors.remove(hit)
    assert not unexpected, "\n".join(unexpected)
    assert not errors, f"expected but not reported: {errors}\n{stdout}"
    assert not reveals, f"reveal_type not reached: {reveals}"
