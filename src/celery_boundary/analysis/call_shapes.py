"""Whether a method call can be Celery's, by its shape: ``store.set("k", obj, serializer="pickle")``
is a cache client, not ``Signature.set``, which takes no positional argument but ``immutable``.

The rules match many methods by their name alone (``set``, ``get``, ``delay``, ``apply_async``,
``link``, ``send_task`` ...); each rule asks ``can_be_celery`` before it believes the name. The limits
are the signatures in celery 5.7 (``celery/app/task.py``, ``celery/canvas.py``, ``celery/app/base.py``,
``celery/result.py``); where a task and a signature both have the method, the looser one counts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class _Signature:
    #: Most positional arguments accepted (None: ``*args``).
    most: int | None = None
    #: Keyword names accepted (None: ``**kwargs``).
    keywords: frozenset[str] | None = None
    #: Fewest arguments (positional or keyword) a call needs.
    least: int = 0
    #: The first positional argument is a timeout (a number or None), never a string or a container.
    timeout_first: bool = False


_RESULT_GET: Final = frozenset({"timeout", "propagate", "interval", "no_ack", "follow_parents", "callback",
                                "on_message", "on_interval", "disable_sync_subtasks", "EXCEPTION_STATES",
                                "PROPAGATE_STATES"})
_JOIN: Final = frozenset({"timeout", "propagate", "interval", "callback", "no_ack", "on_message",
                          "disable_sync_subtasks", "on_interval"})
_ANY: Final = _Signature()
#: celery 5.7's signatures, by method name.
SIGNATURES: Final[dict[str, _Signature]] = {
    # Task.delay(*args, **kwargs), Task.s / si (same), Task.signature(args=None, *starargs, **starkwargs)
    "delay": _ANY, "s": _ANY, "si": _ANY, "signature": _ANY, "subtask": _ANY,
    "delay_on_commit": _ANY,
    # Task.apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
    "apply_async": _Signature(7), "apply_async_on_commit": _Signature(7),
    # Task.apply(args, kwargs, link, link_error, task_id, retries, throw, logfile, loglevel, headers, **options)
    "apply": _Signature(10),
    # Task.retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)
    "retry": _Signature(7),
    "map": _Signature(1, frozenset({"it"}), 1), "starmap": _Signature(1, frozenset({"it"}), 1),
    "chunks": _Signature(2, frozenset({"it", "n"}), 2),
    # Signature.set(immutable=None, **options), clone(args=None, kwargs=None, **opts)
    "set": _Signature(1), "clone": _Signature(2),
    "freeze": _Signature(6, frozenset({"_id", "group_id", "chord", "root_id", "parent_id", "group_index"})),
    "link": _Signature(1, frozenset({"callback"}), 1),
    "link_error": _Signature(1, frozenset({"errback"}), 1), "on_error": _Signature(1, frozenset({"errback"}), 1),
    "set_immutable": _Signature(1, frozenset({"immutable"}), 1),
    # Celery.send_task(name, args, kwargs, ... replaced_task_nesting, **options): 29 named parameters
    "send_task": _Signature(29, None, 1),
    # Celery.add_periodic_task(schedule, sig, args=(), kwargs=(), name=None, **opts)
    "add_periodic_task": _Signature(5, None, 2),
    # AsyncResult.get / wait(timeout=None, propagate=True, ... PROPAGATE_STATES=...): no **kwargs
    "get": _Signature(11, _RESULT_GET, 0, True), "wait": _Signature(11, _RESULT_GET, 0, True),
    # ResultSet.join / join_native(timeout=None, propagate=True, ...): no **kwargs
    "join": _Signature(8, _JOIN, 0, True), "join_native": _Signature(8, _JOIN, 0, True),
    # AsyncResult.collect(intermediate=False, **kwargs)
    "collect": _Signature(1),
}
_NOT_A_TIMEOUT: Final = (ast.JoinedStr, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.ListComp, ast.DictComp,
                         ast.SetComp, ast.GeneratorExp, ast.Lambda)


def can_be_celery(call: ast.Call) -> bool:
    """False when ``call`` (``x.method(...)``) cannot be Celery's method of that name: too many
    positional arguments, a keyword the method does not take, too few arguments, a string or a
    container where a result's ``get`` takes a timeout. Methods not in ``SIGNATURES`` and calls
    spreading ``*args`` / ``**kwargs`` past what can be counted are given the benefit of the doubt."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return True
    shape = SIGNATURES.get(func.attr)
    if shape is None:
        return True
    spread = any(isinstance(arg, ast.Starred) for arg in call.args) or any(kw.arg is None for kw in call.keywords)
    positional = sum(1 for arg in call.args if not isinstance(arg, ast.Starred))
    if shape.most is not None and positional > shape.most:
        return False
    if shape.keywords is not None and any(kw.arg is not None and kw.arg not in shape.keywords
                                          for kw in call.keywords):
        return False
    if not spread and positional + len(call.keywords) < shape.least:
        return False
    if shape.timeout_first and call.args:
        first = call.args[0]
        if isinstance(first, _NOT_A_TIMEOUT) or isinstance(first, ast.Constant) and isinstance(
                first.value, (str, bytes)):
            return False
    return True
