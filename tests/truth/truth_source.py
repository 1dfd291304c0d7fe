"""A runtime annotation written back as source code, for the mypy front-end cross-check.

Covers the annotation kinds the truth rows use; anything else raises ``LookupError`` so that the
cross-check says which row it could not write instead of checking something else.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import typing
from typing import Any, ForwardRef

import typing_extensions

#: Runtime classes whose typeshed name differs.
_SPELLED = {
    "_thread.lock": "threading.Lock",
    "_thread.RLock": "threading.RLock",
    "django.utils.functional.Promise": "django.utils.functional.Promise",
}


def source_of(annotation: object, local_modules: dict[str, str]) -> str:
    """``dict[str, list[Address]]`` -> ``"dict[str, list[truth_cases.Address]]"``.

    ``local_modules`` maps a runtime module name to the name it is imported as in the generated
    source (``{"truth_cases": "truth_cases"}``).
    """
    tp = annotation
    if tp is None or tp is type(None):
        return "None"
    if tp is Any:
        return "typing.Any"
    if isinstance(tp, str):
        return f"{local_modules['truth_cases']}.{tp}"
    if isinstance(tp, ForwardRef):
        return f"{local_modules['truth_cases']}.{tp.__forward_arg__}"
    if isinstance(tp, typing.TypeVar) or getattr(tp, "__supertype__", None) is not None:
        return f"{local_modules['truth_cases']}.{getattr(tp, '__name__')}"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return "typing.Union[" + ", ".join(source_of(a, local_modules) for a in args) + "]"
    if origin in (typing.Literal, typing_extensions.Literal):
        return "typing.Literal[" + ", ".join(_literal(v, local_modules) for v in args) + "]"
    if origin in (typing.Annotated, typing_extensions.Annotated):
        metadata = getattr(tp, "__metadata__")
        return f"typing.Annotated[{source_of(args[0], local_modules)}, {metadata[0]!r}]"
    if origin is collections.abc.Callable:
        params, ret = args
        written = ", ".join(source_of(p, local_modules) for p in params)
        return f"collections.abc.Callable[[{written}], {source_of(ret, local_modules)}]"
    if origin is not None:
        rendered = [("..." if a is Ellipsis else source_of(a, local_modules)) for a in args]
        return f"{_class(origin, local_modules)}[{', '.join(rendered)}]"
    if isinstance(tp, type):
        return _class(tp, local_modules)
    raise LookupError(f"cannot write {tp!r} as source")


def _class(cls: type, local_modules: dict[str, str]) -> str:
    module, qualname = cls.__module__, cls.__qualname__
    generic = getattr(cls, "__pydantic_generic_metadata__", None)
    if generic and generic.get("origin") is not None:
        # A parametrised pydantic model (Box[int]). pydantic caches them: its __module__ is the
        # module that first wrote RootModel[list[str]], maybe another test's.
        args = ", ".join(source_of(a, local_modules) for a in generic["args"])
        return f"{_class(generic['origin'], local_modules)}[{args}]"
    if module in local_modules:
        return f"{local_modules[module]}.{qualname}"
    name = f"{module}.{qualname}"
    if name in _SPELLED:
        return _SPELLED[name]
    if module == "builtins":
        return qualname
    if module == "typing":
        return f"typing.{getattr(cls, '_name', None) or qualname}"
    return name


def _literal(value: object, local_modules: dict[str, str]) -> str:
    if isinstance(value, enum.Enum):
        return f"{_class(type(value), local_modules)}.{value.name}"
    return repr(value)
