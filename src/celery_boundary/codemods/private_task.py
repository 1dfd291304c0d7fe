"""CB202: rename a public task that the project uses only as a receiving canvas link to ``_name``, in
its module and in every module that references it (scope-aware: libcst's scopes and qualified names,
so a parameter or local variable that shadows the task keeps its name).

The task keeps its registered name on the wire: ``name="<registered name>"`` (the name Celery
registers it under, ``analysis.task_names``) is added to the task decorator when it has none, so
messages already queued under the old name are still consumed. An import inside a function renames its
local uses too. A string that is exactly the old name (``getattr(tasks, "total")``, ``__all__``) is not
followed: the transformer records its line and the caller refuses the rename, as it does when the new
name is taken or a module mentions the old name in a way this fix cannot follow (a star import).
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider, Scope, ScopeProvider

from celery_boundary.codemods.base import last_name

CODES: Final = ("CB202",)
TASK_DECORATORS: Final = frozenset({"task", "shared_task", "periodic_task"})


class RenameTask(cst.CSTTransformer):
    """Rename ``home.old`` to ``home.new`` in one module (the home module or one that references it)."""

    METADATA_DEPENDENCIES = (ScopeProvider, QualifiedNameProvider, PositionProvider)

    def __init__(self, module: str, is_package: bool, home: str, old: str, new: str,
                 decorators: frozenset[str] = frozenset(), factories: frozenset[str] = frozenset(),
                 registered: str | None = None) -> None:
        super().__init__()
        self.module, self.is_package, self.home, self.old, self.new = module, is_package, home, old, new
        #: The name Celery registers the task under, kept with ``name=`` (None: not known here).
        self.registered = registered
        #: Lines of string literals that are exactly the old name (the caller refuses the rename).
        self.string_lines: list[int] = []
        #: Lines where the old name is used but bound by nothing of this module (a star import).
        self.unresolved_lines: list[int] = []
        self.decorators = TASK_DECORATORS | {d.rsplit(".", 1)[-1] for d in decorators}
        #: Found by the project scan, not configured: ``name=`` may not reach Celery through them.
        self.factories = {d.rsplit(".", 1)[-1]: d for d in factories}
        self.names: set[int] = set()
        self.aliases: set[int] = set()
        self.changed = 0
        #: Why the rename cannot be done in this module (the caller then renames nothing anywhere).
        self.refusal: str | None = None

    def visit_Module(self, node: cst.Module) -> None:
        scope = self.get_metadata(ScopeProvider, node)
        if scope is None:
            return
        if self.module != self.home:
            return  # elsewhere only an import binds the name (visit_ImportFrom); ``tasks._xsum`` clashes with nothing
        if self.new in scope.assignments:
            self.refusal = f"{self.new!r} is already defined in {self.module}"
            return
        for assignment in scope.assignments[self.old]:
            self.names.update(id(access.node) for access in assignment.references)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        """Record every use of the old name that neither is renamed nor resolves to a binding of this
        module (libcst's scopes: a parameter or a local of that name resolves; a star import does not)."""
        scopes = {scope for scope in self.metadata.get(ScopeProvider, {}).values() if isinstance(scope, Scope)}
        for scope in scopes:
            for access in scope.accesses[self.old]:
                if id(access.node) not in self.names and not access.referents:
                    self.unresolved_lines.append(self.get_metadata(PositionProvider, access.node).start.line)
        self.unresolved_lines.sort()
        return updated

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node.evaluated_value == self.old:
            self.string_lines.append(self.get_metadata(PositionProvider, node).start.line)

    def _binds_task(self, node: cst.ImportFrom) -> bool:
        """``from <home> import old`` without ``as`` (the local name is then renamed too)."""
        if self._source(node) != self.home or isinstance(node.names, cst.ImportStar):
            return False
        return any(_alias_name(a) == self.old and a.asname is None for a in node.names)

    def _source(self, node: cst.ImportFrom) -> str | None:
        dotted = _dotted(node.module) if node.module is not None else ""
        dots = len(node.relative)
        if dots == 0:
            return dotted
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        base = package[: len(package) - (dots - 1)]
        return ".".join([*base, dotted] if dotted else base)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self._source(node) == self.home and not isinstance(node.names, cst.ImportStar):
            self.aliases.update(id(a) for a in node.names if _alias_name(a) == self.old)
        if self.module == self.home or not self._binds_task(node):
            return
        # The import binds the old name in its scope (the module's, or a function's: the uses of a
        # function-local import are that function's).
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return
        if self.new in scope.assignments:
            self.refusal = f"{self.new!r} is already defined where {self.module} imports {self.old!r}"
            return
        for assignment in scope.assignments[self.old]:
            if getattr(assignment, "node", None) is node:
                self.names.update(id(access.node) for access in assignment.references)

    def leave_ImportAlias(self, original: cst.ImportAlias, updated: cst.ImportAlias) -> cst.ImportAlias:
        if id(original) not in self.aliases:
            return updated
        self.changed += 1
        return updated.with_changes(name=cst.Name(self.new))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if id(original) not in self.names:
            return updated
        self.changed += 1
        return updated.with_changes(value=self.new)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if original.attr.value != self.old:
            return updated
        target = f"{self.home}.{self.old}"
        names = self.get_metadata(QualifiedNameProvider, original, set())
        if any(self._absolute(q.name) == target for q in names):
            self.changed += 1
            return updated.with_changes(attr=cst.Name(self.new))
        return updated

    def _absolute(self, name: str) -> str:
        if not name.startswith("."):
            return name
        dots = len(name) - len(name.lstrip("."))
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        base = package[: len(package) - (dots - 1)]
        return ".".join([*base, name[dots:]])

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if self.module != self.home or original.name.value != self.old:
            return updated
        decorators = list(updated.decorators)
        for position, decorator in enumerate(decorators):
            expression = decorator.decorator
            func = expression.func if isinstance(expression, cst.Call) else expression
            if last_name(func) not in self.decorators:
                continue
            named = isinstance(expression, cst.Call) and any(
                arg.keyword is not None and arg.keyword.value == "name" for arg in expression.args
            )
            factory = self.factories.get(last_name(func) or "")
            if factory is not None and not named:
                self.refusal = (
                    f"the task is made by the factory {factory}, which may not pass name= on to Celery; rename "
                    f'it by hand and keep its registered name ("{self.registered or self.old}")'
                )
                return updated
            if self.registered is None and not named:
                self.refusal = "the name Celery registers the task under is not known here; rename it by hand"
                return updated
            wire = cst.Arg(cst.SimpleString(f'"{self.registered}"'), keyword=cst.Name("name"),
                           equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            if isinstance(expression, cst.Call):
                if not named:
                    args = list(expression.args)
                    if args:
                        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    expression = expression.with_changes(args=[*args, wire])
            else:
                expression = cst.Call(func=expression, args=[wire])
            decorators[position] = decorator.with_changes(decorator=expression)
            break
        self.changed += 1
        # The def's own name is a binding, not an access: rename it here.
        return updated.with_changes(name=cst.Name(self.new), decorators=decorators)


def _alias_name(alias: cst.ImportAlias) -> str | None:
    return alias.name.value if isinstance(alias.name, cst.Name) else None


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
