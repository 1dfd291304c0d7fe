"""Contracts a client is checked against: ``contracts = ["contracts/billing.json"]`` in
``[tool.celery_boundary]`` names documents written by ``celery-boundary contracts export`` in another
service (the format: docs/contracts.md). Read by the mypy plugin (``send_task`` / ``signature`` by
name, typed from the contract) and by ``check`` (CB205: unknown names, arity).

A contract *owns* the names under its prefix: the dotted parts every one of its task names shares
before the last (``billing.charge`` and ``billing.refund``: ``billing``). A name under a prefix that the
contract does not have is unknown; a name outside every prefix is left alone. A contract whose names
share no part owns none (its tasks are still typed).

A missing, unreadable, damaged or other-version document raises ``ConfigError`` (one line naming the
file and the key), never a traceback.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any, Final

from celery_boundary.core.config import SECTION, Config, ConfigError
from celery_boundary.core.records import record

#: The document's ``format`` and ``version`` (``contracts export`` writes them; readers refuse others).
FORMAT: Final = "celery-boundary/task-contracts"
VERSION: Final = 1
#: How a parameter is passed (``inspect.Parameter.kind``, as the document spells it).
POSITIONAL_ONLY: Final = "positional_only"
VAR_POSITIONAL: Final = "var_positional"
KEYWORD_ONLY: Final = "keyword_only"
VAR_KEYWORD: Final = "var_keyword"
KINDS: Final = frozenset({POSITIONAL_ONLY, "positional_or_keyword", VAR_POSITIONAL, KEYWORD_ONLY, VAR_KEYWORD})


@record
class ContractParameter:
    name: str
    kind: str
    required: bool
    #: The annotation as written in the service (None: unannotated).
    type: str | None = None
    #: The JSON Schema of the value on the wire (None: unresolved).
    schema: Any = None


@record
class ContractTask:
    name: str
    #: None when the service's contract does not know them (``parameters_unknown``).
    parameters: tuple[ContractParameter, ...] | None
    result_type: str | None
    result_schema: Any
    #: The contract file, as configured (for messages).
    source: str


@record
class Contract:
    source: str
    #: The dotted prefix its task names share (None: they share none).
    prefix: str | None
    tasks: tuple[ContractTask, ...]

    def owns(self, name: str) -> bool:
        return self.prefix is not None and name.startswith(self.prefix + ".")


@record
class Contracts:
    """Every configured contract; ``digest`` fingerprints their content (the mypy cache key)."""

    contracts: tuple[Contract, ...] = ()
    digest: str = ""

    def task(self, name: str) -> ContractTask | None:
        for contract in self.contracts:
            for task in contract.tasks:
                if task.name == name:
                    return task
        return None

    def owner(self, name: str) -> Contract | None:
        """The contract whose prefix ``name`` is under and that does not have it (an unknown name)."""
        if self.task(name) is not None:
            return None
        return next((contract for contract in self.contracts if contract.owns(name)), None)


NONE: Final = Contracts()


def load_contracts(config: Config) -> Contracts:
    """The contracts ``config`` names, paths relative to its configuration file's folder."""
    return read_contracts(config.contracts, config.source)


def read_contracts(entries: tuple[str, ...], source: str | None) -> Contracts:
    """``entries`` as configured in ``source`` (the configuration file; None: the working directory)."""
    if not entries:
        return NONE
    folder = Path(source).parent if source else Path.cwd()
    digest = hashlib.sha256()
    loaded = []
    for entry in entries:
        data = _read(folder / entry, entry, source)
        digest.update(entry.encode() + b"\0" + data + b"\0")
        loaded.append(parse_contract(data, entry, source))
    return Contracts(tuple(loaded), digest.hexdigest())


def _read(path: Path, entry: str, source: str | None) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{_where(source)} contracts: {entry!r} cannot be read ({exc.strerror or exc}; "
                          "paths are relative to the configuration file's folder)") from None


def _where(source: str | None) -> str:
    return f"{source or '<config>'}: [{SECTION}]"


def document_problem(document: Any) -> str | None:
    """What keeps a decoded document from being read as contracts of this version (None: nothing)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return "is not a contracts document (written by `celery-boundary contracts export`)"
    if document.get("version") != VERSION:
        return f"has contracts format version {document.get('version')!r}; this version reads {VERSION}"
    return None


def parse_contract(data: bytes, entry: str, source: str | None = None) -> Contract:
    """One document; ``ConfigError`` unless it is a contracts document of this version."""
    where = f"{_where(source)} contracts: {entry!r}"
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise ConfigError(f"{where} is not JSON ({exc})") from None
    problem = document_problem(document)
    if problem is not None:
        advice = " (export it again with this celery-boundary)" if problem.startswith("has") else ""
        raise ConfigError(f"{where} {problem}{advice}")
    try:
        tasks = tuple(_task(raw, entry) for raw in document["tasks"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where} is damaged: a task entry lacks or misspells {exc}") from None
    return Contract(entry, common_prefix([task.name for task in tasks]), tasks)


def _task(raw: dict[str, Any], entry: str) -> ContractTask:
    params = raw["parameters"]
    result = raw.get("result") or {}
    return ContractTask(
        name=_text(raw["name"]),
        parameters=None if params is None else tuple(_parameter(p) for p in params),
        result_type=result.get("type"),
        result_schema=result.get("schema"),
        source=entry,
    )


def _parameter(raw: dict[str, Any]) -> ContractParameter:
    required = raw["required"]
    if not isinstance(required, bool):
        raise ValueError("'required'")
    if raw["kind"] not in KINDS:
        raise ValueError("'kind'")
    return ContractParameter(_text(raw["name"]), _text(raw["kind"]), required, raw.get("type"), raw.get("schema"))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(repr(value))
    return value


def common_prefix(names: list[str]) -> str | None:
    """The dotted parts every name shares before its last part (None: none, or no names)."""
    if not names:
        return None
    heads = [name.split(".")[:-1] for name in names]
    shared: list[str] = []
    for parts in zip(*heads):
        if any(part != parts[0] for part in parts):
            break
        shared.append(parts[0])
    return ".".join(shared) or None


# --- arity: what Python's binding of the worker's call would say --------------------------------


def arity_problems(task: ContractTask, positional: int | None, keywords: tuple[str, ...] | None) -> list[str]:
    """Why ``task(*<positional values>, **{keywords})`` raises TypeError on the worker; [] when it binds
    (or when it cannot be told: unknown parameters, arguments not written as literals)."""
    if task.parameters is None:
        return []
    params = task.parameters
    takes_args = any(p.kind == VAR_POSITIONAL for p in params)
    takes_kwargs = any(p.kind == VAR_KEYWORD for p in params)
    ordered = [p for p in params if p.kind not in (VAR_POSITIONAL, VAR_KEYWORD, KEYWORD_ONLY)]
    problems: list[str] = []
    bound: set[str] = set()
    if positional is not None:
        if positional > len(ordered) and not takes_args:
            problems.append(f"it takes {len(ordered)} positional argument{'s' * (len(ordered) != 1)} but "
                            f"{positional} {'was' if positional == 1 else 'were'} given")
        bound = {p.name for p in ordered[:positional]}
    named = {p.name for p in params if p.kind not in (VAR_POSITIONAL, VAR_KEYWORD, POSITIONAL_ONLY)}
    for key in keywords or ():
        if key in bound:
            problems.append(f"{key!r} is given by position and by keyword")
        elif key not in named and any(p.name == key for p in params):
            problems.append(f"{key!r} can only be passed by position")
        elif key not in named and not takes_kwargs:
            problems.append(f"it has no parameter {key!r}")
    if positional is not None and keywords is not None:
        given = bound | set(keywords)
        missing = [p.name for p in params if p.required and p.kind not in (VAR_POSITIONAL, VAR_KEYWORD)
                   and p.name not in given]
        if missing:
            problems.append(f"required {', '.join(repr(m) for m in missing)} {'is' if len(missing) == 1 else 'are'} "
                            "missing")
    return problems


# --- type text: the annotation as written, read into a neutral term for a front end -------------


@record
class TypeTerm:
    """``Optional[list[int]]`` -> ``TypeTerm("Optional", (TypeTerm("list", (TypeTerm("int"),)),))``;
    ``X | Y`` -> ``TypeTerm("|", (X, Y))``; ``None`` -> ``TypeTerm("None")``."""

    name: str
    args: tuple[TypeTerm, ...] = ()


def type_term(text: str | None) -> TypeTerm | None:
    """The annotation's text as a term, or None when it is not a plain (dotted) name with arguments."""
    if not text:
        return None
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _term(tree)


def _term(node: ast.expr) -> TypeTerm | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return TypeTerm("None")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return type_term(node.value)  # a string annotation
    dotted = _dotted(node)
    if dotted is not None:
        return TypeTerm(dotted)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _term(node.left), _term(node.right)
        return None if left is None or right is None else TypeTerm("|", (left, right))
    if isinstance(node, ast.Subscript):
        head = _dotted(node.value)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = [_term(item) for item in items]
        if head is None or any(arg is None for arg in args):
            return None
        return TypeTerm(head, tuple(arg for arg in args if arg is not None))
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None
