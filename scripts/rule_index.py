"""Write the rules table of docs/rules/index.md from the registry (src/celery_boundary/core/rules.py).

    python scripts/rule_index.py          # rewrite the table
    python scripts/rule_index.py --check  # exit 1 when the page is stale (tests/test_rule_registry.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

from celery_boundary.gate import catalog

PAGE = Path(__file__).resolve().parents[1] / "docs" / "rules" / "index.md"


def main(argv: list[str]) -> int:
    text = PAGE.read_text(encoding="utf-8")
    fresh = catalog.with_index_table(text)
    if "--check" in argv:
        if fresh != text:
            print(f"{PAGE} is stale: run python scripts/rule_index.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
