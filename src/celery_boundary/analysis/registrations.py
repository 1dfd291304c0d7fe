"""Types registered with kombu's json type registry, as projects write the registration: read from the
source of a set of modules (the app module and the project modules it imports), never imported.

What counts as a registration of ``T``:

- a direct call: ``kombu.utils.json.register_type(T, marker, encoder, decoder)``, or
  ``celery_boundary.runtime.register_preserializer(T, ...)`` (call and class-decorator forms);
- ``celery_boundary.runtime.register_models()`` (every Django model: ``django.db.models.Model`` and
  its subclasses, which arrive as themselves) or ``register_models(A, B)`` (those models);
- a loop over a literal tuple or list: ``for cls in (A, B): register_type(cls, ...)``;
- a call of a *registration helper*: a function, a method, a class's ``__call__`` or a decorator whose
  body registers one of its own parameters (directly or through another helper, to any depth):
  ``helper(T)``, ``Helper(...)(T)``, ``@helper`` / ``@Helper(...)`` on a class, ``instance.method(T)``
  for a module-level ``instance = Helper(...)``.

What a registration does to subclasses (``keeps_subclass``), read from its code: kombu's encoder
matches a registered type by ``isinstance`` (kombu 5.7), so a subclass is encoded by its parent's
entry. It arrives as itself only when the encoder records the value's own class (``type(o)``,
``o.__class__``) and the decoder looks a class up from the message (``import_module`` /
``__import__`` / ``pydoc.locate``, ``getattr`` on a module, ``__subclasses__``, a dict of classes);
otherwise it arrives as the registered class. tests/truth/test_registration_helpers.py pushes each
shape through kombu.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Final, Union

from celery_boundary.core import fullnames as fn
from celery_boundary.core.records import field, mutable_record, record

REGISTER_TYPE: Final = fn.KOMBU_REGISTER_TYPE
PRESERIALIZER: Final = frozenset({fn.REGISTER_PRESERIALIZER, "celery_boundary.runtime.register.register_preserializer"})
REGISTER_MODELS: Final = frozenset({fn.REGISTER_MODELS, "celery_boundary.runtime.models.register_models"})
#: How deep the reading of encoders and decoders follows the project functions they call.
_MAX_CALL_DEPTH: Final = 4
#: Calls that look a class up by name (the decoder half of "keeps subclasses").
_LOOKUPS: Final = frozenset({"import_module", "__import__", "locate", "__subclasses__", "import_string"})

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
#: ``self.<attr>`` -> the expression the helper class was given for it, and the module it was written in.
_Bindings = dict[str, tuple[ast.expr, "_ModuleNames"]]
#: The code of an encoder or decoder, its module, and the name of the value it is given.
_Code = tuple[ast.AST, "_ModuleNames", str]


@record
class Module:
    """One module's source as read: its dotted name, its file and its tree."""

    name: str
    path: str
    tree: ast.Module
    is_package: bool = False


@record
class Found:
    """One registration of one class."""

    #: The registered class, as a dotted name.
    fullname: str
    #: kombu's marker: None for the one-way form; "preserializer" for celery_boundary's runtime.
    marker: str | None
    #: Subclasses of the registered class arrive as themselves.
    keeps_subclass: bool
    #: Where the registering call is written (the file as read, 1-based line).
    path: str
    line: int
    #: What was called: ``register_type``, ``register_preserializer`` or the helper's dotted name.
    via: str

    @property
    def origin(self) -> str:
        return f"{self.via} at {self.path}:{self.line}"


@mutable_record
class _Helper:
    """A callable that registers its parameter number ``index`` (counted without ``self``/``cls``)."""

    fullname: str
    index: int
    #: The registering call inside the body, and the function it sits in (for the codec).
    inner: ast.Call
    function: Function
    module: _ModuleNames
    #: The helper this one calls (None: it calls register_type itself).
    calls: _Helper | None = None
    param: str = ""


@mutable_record
class _ModuleNames:
    """What module-level names refer to, as dotted names (imports followed, relative ones resolved)."""

    module: Module
    names: dict[str, str] = field(default_factory=dict)
    #: Module-level ``name = Something(...)`` calls (instances of helper classes).
    instances: dict[str, ast.Call] = field(default_factory=dict)

    def resolve(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id, f"{self.module.name}.{expr.id}")
        if isinstance(expr, ast.Attribute):
            owner = self.resolve(expr.value)
            return None if owner is None else f"{owner}.{expr.attr}"
        return None


def find_registrations(modules: Sequence[Module]) -> list[Found]:
    """Every registration in ``modules``, in source order per module (kombu's order of entries is the
    order of execution, which follows the imports; the caller orders the modules)."""
    return _Reader(modules).registrations()


class _Reader:
    def __init__(self, modules: Sequence[Module]) -> None:
        self.modules = [_names_of(module) for module in modules]
        self.functions: dict[str, tuple[Function, _ModuleNames, ast.ClassDef | None]] = {}
        self.classes: dict[str, tuple[ast.ClassDef, _ModuleNames]] = {}
        for names in self.modules:
            self._index(names)
        self.helpers: dict[str, _Helper] = {}
        self._find_helpers()

    # --- definitions -----------------------------------------------------------------------------

    def _index(self, names: _ModuleNames) -> None:
        prefix = names.module.name
        for stmt in names.module.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[f"{prefix}.{stmt.name}"] = (stmt, names, None)
            elif isinstance(stmt, ast.ClassDef):
                self.classes[f"{prefix}.{stmt.name}"] = (stmt, names)
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions[f"{prefix}.{stmt.name}.{item.name}"] = (item, names, stmt)

    def _find_helpers(self) -> None:
        """Helpers calling helpers: repeat until nothing new is found (each round adds at least one
        helper, so at most one round per function; cycles add nothing new)."""
        changed = True
        while changed:
            changed = False
            for fullname, (function, names, owner) in self.functions.items():
                if fullname in self.helpers:
                    continue
                helper = self._as_helper(fullname, function, names, owner)
                if helper is not None:
                    self.helpers[fullname] = helper
                    changed = True

    def _as_helper(self, fullname: str, function: Function, names: _ModuleNames,
                   owner: ast.ClassDef | None) -> _Helper | None:
        params = _parameters(function, owner is not None)
        for call in _calls_in(function):
            target = self._registering(call, names)
            if target is None:
                continue
            kind, helper, index = target
            argument = _argument(call, index)
            if isinstance(argument, ast.Name) and argument.id in params:
                return _Helper(fullname, params.index(argument.id), call, function, names, helper, argument.id)
        return None

    def _registering(self, call: ast.Call, names: _ModuleNames) -> tuple[str, _Helper | None, int] | None:
        """(kind, helper, index of the registered argument) when ``call`` registers something."""
        func = call.func
        callee = names.resolve(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if callee == REGISTER_TYPE:
            return "register_type", None, 0
        if callee in PRESERIALIZER:
            return "register_preserializer", None, 0
        helper = self._helper_called(func, names)
        if helper is not None:
            return "helper", helper, helper.index
        return None

    def _helper_called(self, func: ast.expr, names: _ModuleNames) -> _Helper | None:
        """``helper``, ``Helper(...)`` (its ``__call__``), ``Cls.method``, ``instance.method``."""
        if isinstance(func, ast.Call) and isinstance(func.func, (ast.Name, ast.Attribute)):
            cls = names.resolve(func.func)
            return self.helpers.get(f"{cls}.__call__") if cls else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in names.instances:
            made = names.instances[func.value.id]
            cls = names.resolve(made.func) if isinstance(made.func, (ast.Name, ast.Attribute)) else None
            return self.helpers.get(f"{cls}.{func.attr}") if cls else None
        if isinstance(func, (ast.Name, ast.Attribute)):
            callee = names.resolve(func)
            return self.helpers.get(callee) if callee else None
        return None

    # --- registrations ---------------------------------------------------------------------------

    def registrations(self) -> list[Found]:
        inner = {id(helper.inner) for helper in self.helpers.values()}  # a helper registering its parameter
        found: list[Found] = []
        for names in self.modules:
            here: list[Found] = []
            for call, loop in _calls_with_loops(names.module.tree):
                if id(call) not in inner:
                    here.extend(self._from_call(call, loop, names))
                    here.extend(_models_registered(call, names))
            for cls in _classes(names.module.tree):
                here.extend(self._from_decorators(cls, names))
            found.extend(sorted(here, key=lambda entry: entry.line))  # stable: a loop keeps its order
        return found

    def _from_call(self, call: ast.Call, loop: dict[str, list[ast.expr]], names: _ModuleNames) -> Iterator[Found]:
        target = self._registering(call, names)
        if target is None:
            return
        kind, helper, index = target
        argument = _argument(call, index)
        for expr in loop.get(argument.id, [argument]) if isinstance(argument, ast.Name) else [argument]:
            registered = names.resolve(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
            if registered is None:
                continue
            yield self._registration(registered, kind, helper, call, call, names)

    def _from_decorators(self, cls: ast.ClassDef, names: _ModuleNames) -> Iterator[Found]:
        registered = f"{names.module.name}.{cls.name}"
        for decorator in cls.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            callee = names.resolve(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
            if callee in PRESERIALIZER:
                keeps = isinstance(decorator, ast.Call) and _flag(decorator, "include_subclasses")
                yield Found(registered, "preserializer", keeps, names.module.path, decorator.lineno,
                            "register_preserializer")
                continue
            # ``@helper`` (a function helper) or ``@Helper(...)`` (a class whose __call__ registers)
            helper = self._helper_called(decorator, names)
            if helper is not None and helper.index == 0:
                site = decorator if isinstance(decorator, ast.Call) else None
                yield self._registration(registered, "helper", helper, site, decorator, names)

    def _registration(self, registered: str, kind: str, helper: _Helper | None, site: ast.Call | None,
                      where: ast.expr, names: _ModuleNames) -> Found:
        path, line = names.module.path, where.lineno
        if kind == "register_preserializer":
            assert site is not None
            return Found(registered, "preserializer", _flag(site, "include_subclasses"), path, line, kind)
        if kind == "register_type":
            assert site is not None
            return Found(registered, _marker(site), self._keeps(site, names, {}), path, line, kind)
        assert helper is not None
        innermost, bindings = self._unwind(helper, site, names)
        inner_names = innermost.module
        callee = inner_names.resolve(innermost.inner.func) if isinstance(
            innermost.inner.func, (ast.Name, ast.Attribute)) else None
        if callee in PRESERIALIZER:
            return Found(registered, "preserializer", _flag(innermost.inner, "include_subclasses"), path, line,
                         helper.fullname)
        marker = _marker(innermost.inner)
        return Found(registered, marker, self._keeps(innermost.inner, inner_names, bindings), path, line,
                     helper.fullname)

    def _unwind(self, helper: _Helper, site: ast.Call | None,
                names: _ModuleNames) -> tuple[_Helper, _Bindings]:
        """The helper that calls register_type itself, and what its class's ``__init__`` parameters
        were given at the outermost call (``Helper(PydanticModelDump)(BaseModel)``)."""
        bindings: _Bindings = {}
        if site is not None and helper.fullname.endswith(".__call__"):
            maker = site.func if isinstance(site.func, ast.Call) else site
            bindings = self._init_bindings(helper.fullname.rsplit(".", 1)[0], maker, names)
        seen: set[str] = set()
        while helper.calls is not None and helper.fullname not in seen:
            seen.add(helper.fullname)
            helper = helper.calls
        return helper, bindings

    def _init_bindings(self, cls: str, maker: ast.Call, names: _ModuleNames) -> _Bindings:
        """``self.<attr>`` -> the expression ``Cls(...)`` gave the ``__init__`` parameter it is set from."""
        found = self.functions.get(f"{cls}.__init__")
        if found is None:
            return {}
        init = found[0]
        params = _parameters(init, True)
        given: dict[str, ast.expr] = {name: arg for name, arg in zip(params, maker.args)}
        given.update({kw.arg: kw.value for kw in maker.keywords if kw.arg})
        bindings: _Bindings = {}
        for stmt in ast.walk(init):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                        isinstance(stmt.value, ast.Name) and stmt.value.id in given:
                    bindings[f"{target.value.id}.{target.attr}"] = (given[stmt.value.id], names)
        return bindings

    # --- subclasses: read the encoder and the decoder ---------------------------------------------

    def _keeps(self, call: ast.Call, names: _ModuleNames, bindings: _Bindings) -> bool:
        encoder = _codec_argument(call, "encoder", 2)
        decoder = _codec_argument(call, "decoder", 3)
        if encoder is None or decoder is None:
            return False
        encoding = self._function_of(encoder, names, bindings)
        decoding = self._function_of(decoder, names, bindings)
        if encoding is None or decoding is None:
            return False
        return self._records_class(*encoding, depth=0) and self._looks_up_class(*decoding, depth=0)

    def _function_of(self, expr: ast.expr, names: _ModuleNames,
                     bindings: _Bindings) -> _Code | None:
        """The code behind an encoder or decoder expression, its module, and its value parameter."""
        if isinstance(expr, ast.Lambda):
            args = expr.args.args
            return (expr.body, names, args[0].arg) if args else None
        if isinstance(expr, ast.Call) and _last(expr.func) == "partial" and expr.args:
            return self._function_of(expr.args[0], names, bindings)
        if isinstance(expr, ast.Attribute):
            # ``self.preserializer.pack`` -> the object ``Helper(...)`` was given, then its method.
            holder = expr.value
            if isinstance(holder, ast.Attribute) and isinstance(holder.value, ast.Name):
                bound = bindings.get(f"{holder.value.id}.{holder.attr}")
                if bound is not None:
                    given, given_names = bound
                    if isinstance(given, ast.Call):
                        given = given.func  # an instance of the class: its methods
                    return self._method(given, expr.attr, given_names)
            if isinstance(holder, (ast.Name, ast.Attribute)):
                method = self._method(holder, expr.attr, names)
                if method is not None:
                    return method
        if isinstance(expr, (ast.Name, ast.Attribute)):
            fullname = names.resolve(expr)
            found = self.functions.get(fullname) if fullname else None
            if found is not None:
                return _with_value_parameter(found[0], found[1], found[2] is not None)
        return None

    def _method(self, owner: ast.expr, name: str, names: _ModuleNames) -> _Code | None:
        cls = names.resolve(owner) if isinstance(owner, (ast.Name, ast.Attribute)) else None
        seen: set[str] = set()
        while cls is not None and cls not in seen:
            seen.add(cls)
            found = self.functions.get(f"{cls}.{name}")
            if found is not None:
                return _with_value_parameter(found[0], found[1], True)
            declared = self.classes.get(cls)
            if declared is None:
                return None
            bases = [declared[1].resolve(b) for b in declared[0].bases if isinstance(b, (ast.Name, ast.Attribute))]
            cls = next((b for b in bases if b in self.classes), None)
        return None

    def _records_class(self, code: ast.AST, names: _ModuleNames, value: str, depth: int) -> bool:
        """``type(value)`` or ``value.__class__`` in the encoder, or in a project function it hands the
        value to."""
        for node in ast.walk(code):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type" and \
                    len(node.args) == 1 and _is_name(node.args[0], value):
                return True
            if isinstance(node, ast.Attribute) and node.attr == "__class__" and _is_name(node.value, value):
                return True
            if isinstance(node, ast.Call) and depth < _MAX_CALL_DEPTH:
                for position, arg in enumerate(node.args):
                    if _is_name(arg, value):
                        callee = self._callee(node.func, names)
                        if callee is not None:
                            function, callee_names, method = callee
                            params = _parameters(function, method)
                            if position < len(params) and self._records_class(
                                    function, callee_names, params[position], depth + 1):
                                return True
        return False

    def _looks_up_class(self, code: ast.AST, names: _ModuleNames, value: str, depth: int) -> bool:
        """A class looked up by name in the decoder, or in a project function it calls."""
        dicts = {stmt.targets[0].id for stmt in names.module.tree.body if isinstance(stmt, ast.Assign)
                 and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                 and isinstance(stmt.value, (ast.Dict, ast.DictComp, ast.Call))}
        for node in ast.walk(code):
            if isinstance(node, ast.Call):
                if _last(node.func) in _LOOKUPS:
                    return True
                if _last(node.func) == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                    return True  # an attribute named by the message: a class found by its name
                if depth < _MAX_CALL_DEPTH:
                    callee = self._callee(node.func, names)
                    if callee is not None and self._looks_up_class(callee[0], callee[1], "", depth + 1):
                        return True
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in dicts:
                return True
        return False

    def _callee(self, func: ast.expr, names: _ModuleNames) -> tuple[Function, _ModuleNames, bool] | None:
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("cls", "self"):
            return None
        fullname = names.resolve(func)
        found = self.functions.get(fullname) if fullname else None
        return (found[0], found[1], found[2] is not None) if found else None


# --- small readers -------------------------------------------------------------------------------


def _models_registered(call: ast.Call, names: _ModuleNames) -> Iterator[Found]:
    """``register_models()`` registers ``django.db.models.Model``; ``register_models(A, B)``, A and B.
    Either way a subclass arrives as itself: the reference names the instance's own model."""
    callee = names.resolve(call.func) if isinstance(call.func, (ast.Name, ast.Attribute)) else None
    if callee not in REGISTER_MODELS:
        return
    listed = [names.resolve(arg) for arg in call.args if isinstance(arg, (ast.Name, ast.Attribute))]
    if len(listed) != len(call.args):
        return  # ``register_models(*models)``: which models is not known here
    for registered in listed or [fn.DJANGO_MODEL]:
        if registered is not None:
            yield Found(registered, "preserializer", True, names.module.path, call.lineno, "register_models")


def _names_of(module: Module) -> _ModuleNames:
    names = _ModuleNames(module)
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for stmt in _module_statements(module.tree.body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    names.names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names.names[top] = top
        elif isinstance(stmt, ast.ImportFrom):
            base = stmt.module or ""
            if stmt.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (stmt.level - 1)] if stmt.level > 1 else parent
                base = ".".join([*parent, base] if base else parent)
            for alias in stmt.names:
                names.names[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    names.instances[target.id] = stmt.value
    return names


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try)):
            yield from _module_statements([*stmt.body, *stmt.orelse])
            if isinstance(stmt, ast.Try):
                yield from _module_statements([*stmt.finalbody, *(s for h in stmt.handlers for s in h.body)])


def _calls_with_loops(tree: ast.Module) -> Iterator[tuple[ast.Call, dict[str, list[ast.expr]]]]:
    """Every call in the module, with the loop variables around it that run over a literal tuple or
    list (``for cls in (A, B):``). The parameters of the functions around a call are bound to an
    empty list: a call that registers a parameter belongs to a helper and registers nothing itself."""
    stack: list[tuple[ast.AST, dict[str, list[ast.expr]]]] = [(tree, {})]
    while stack:
        node, loops = stack.pop()
        if isinstance(node, ast.Call):
            yield node, loops
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(
                node.iter, (ast.Tuple, ast.List)):
            inner = {**loops, node.target.id: list(node.iter.elts)}
            body = {id(stmt) for stmt in node.body}
            stack.extend((child, inner if id(child) in body else loops) for child in ast.iter_child_nodes(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = {**loops, **dict.fromkeys(_parameters(node, False), [])}
            stack.extend((child, inner) for child in ast.iter_child_nodes(node))
        else:
            stack.extend((child, loops) for child in ast.iter_child_nodes(node))


def _classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            yield node


def _calls_in(function: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            yield node


def _parameters(function: Function | ast.Lambda, method: bool) -> list[str]:
    args = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    args += [extra for extra in (function.args.vararg, function.args.kwarg) if extra is not None]
    names = [arg.arg for arg in args]
    if method and not _is_static(function) and names:
        names = names[1:]
    return names


def _is_static(function: Function | ast.Lambda) -> bool:
    if isinstance(function, ast.Lambda):
        return False
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _with_value_parameter(function: Function, names: _ModuleNames, method: bool) -> _Code | None:
    params = _parameters(function, method)
    return (function, names, params[0]) if params else None


def _argument(call: ast.Call, index: int) -> ast.expr | None:
    return call.args[index] if len(call.args) > index and not isinstance(call.args[index], ast.Starred) else None


def _codec_argument(call: ast.Call, name: str, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return _argument(call, position)


def _marker(call: ast.Call) -> str | None:
    """kombu: ``register_type(T, marker, encoder, decoder)``; a None marker is one-way (5.3.7+)."""
    expr = _codec_argument(call, "marker", 1)
    if isinstance(expr, ast.Constant) and expr.value is None:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return "registered"


def _flag(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)


def _is_name(expr: ast.expr, name: str) -> bool:
    return bool(name) and isinstance(expr, ast.Name) and expr.id == name


def _last(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return ""
