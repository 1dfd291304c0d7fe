"""Every dotted name the boundary model matches, in one place.

Names are given as mypy spells them (typeshed's module for a class) and, where the running
interpreter spells a class differently (``_io.TextIOWrapper``, ``_thread.lock``), as the runtime
spells it too, so that the mypy front end and the runtime annotation adapter meet in one table.
"""

from __future__ import annotations

from typing import Final

# --- builtins that JSON-like serializers encode natively ---------------------------------------
OBJECT: Final = "builtins.object"
BOOL: Final = "builtins.bool"
INT: Final = "builtins.int"
FLOAT: Final = "builtins.float"
STR: Final = "builtins.str"
BYTES: Final = "builtins.bytes"
BYTEARRAY: Final = "builtins.bytearray"
MEMORYVIEW: Final = "builtins.memoryview"
LIST: Final = "builtins.list"
TUPLE: Final = "builtins.tuple"
DICT: Final = "builtins.dict"
SET: Final = "builtins.set"
FROZENSET: Final = "builtins.frozenset"
NONE_TYPE: Final = "builtins.NoneType"
BASE_EXCEPTION: Final = "builtins.BaseException"
EXCEPTION: Final = "builtins.Exception"
TYPE: Final = "builtins.type"

#: Abstract collection types: the runtime value may be any implementation.
MAPPINGS: Final = frozenset(
    {
        "typing.Mapping",
        "typing.MutableMapping",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
    }
)
SEQUENCES: Final = frozenset(
    {
        "typing.Sequence",
        "typing.MutableSequence",
        "collections.abc.Sequence",
        "collections.abc.MutableSequence",
    }
)
ITERABLES: Final = frozenset(
    {
        "typing.Iterable",
        "typing.Collection",
        "typing.Container",
        "typing.Reversible",
        "collections.abc.Iterable",
        "collections.abc.Collection",
        "collections.abc.Container",
        "collections.abc.Reversible",
    }
)
ABSTRACT_SETS: Final = frozenset(
    {
        "typing.AbstractSet",
        "typing.MutableSet",
        "collections.abc.Set",
        "collections.abc.MutableSet",
    }
)

#: Abstract bases that builtin values implement (int is a numbers.Real, str is Hashable and Sized):
#: whether a value crosses depends on the value, never on the annotation.
ABSTRACT_BASES: Final = frozenset(
    {
        "numbers.Number",
        "numbers.Complex",
        "numbers.Real",
        "numbers.Rational",
        "numbers.Integral",
        "typing.Hashable",
        "typing.Sized",
        "collections.abc.Hashable",
        "collections.abc.Sized",
    }
)

# --- stdlib value types ----------------------------------------------------------------------
DATETIME: Final = "datetime.datetime"
DATE: Final = "datetime.date"
TIME: Final = "datetime.time"
TIMEDELTA: Final = "datetime.timedelta"
DECIMAL: Final = "decimal.Decimal"
UUID: Final = "uuid.UUID"
PATHS: Final = frozenset({"pathlib.PurePath", "pathlib.Path", "os.PathLike"})

#: Things no data serializer carries: iterators that hold a frame, OS handles, locks.
GENERATORS: Final = frozenset(
    {
        "typing.Generator",
        "typing.Iterator",
        "typing.AsyncGenerator",
        "typing.AsyncIterator",
        "typing.AsyncIterable",
        "typing.Coroutine",
        "typing.Awaitable",
        "collections.abc.Generator",
        "collections.abc.Iterator",
        "collections.abc.AsyncGenerator",
        "collections.abc.AsyncIterator",
        "collections.abc.AsyncIterable",
        "collections.abc.Coroutine",
        "collections.abc.Awaitable",
        "types.GeneratorType",
        "types.CoroutineType",
        "types.AsyncGeneratorType",
        "builtins.generator",
        "builtins.coroutine",
        "builtins.async_generator",
    }
)
#: File objects as annotated (the concrete class may be an open file or an in-memory buffer).
ABSTRACT_FILES: Final = frozenset(
    {
        "typing.IO",
        "typing.TextIO",
        "typing.BinaryIO",
        "io.IOBase",
        "io.RawIOBase",
        "io.BufferedIOBase",
        "io.TextIOBase",
        "_io._IOBase",
        "_io._RawIOBase",
        "_io._BufferedIOBase",
        "_io._TextIOBase",
    }
)
FILES: Final = ABSTRACT_FILES | {"socket.socket", "_socket.socket"}
#: In-memory files: pickle carries them (CPython 3.11), no data serializer does.
IN_MEMORY_FILES: Final = frozenset({"io.StringIO", "io.BytesIO", "_io.StringIO", "_io.BytesIO"})
#: Abstract iterator / file types whose implementations pickle sometimes carries (a list
#: iterator, a StringIO) and sometimes not (a generator, an open file): unknown under pickle.
PICKLED_SOMETIMES: Final = ABSTRACT_FILES | {"typing.Iterator", "collections.abc.Iterator"}
LOCKS: Final = frozenset(
    {
        "threading.Lock",
        "threading.RLock",
        "threading._RLock",
        "threading.Condition",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Event",
        "_thread.lock",
        "_thread.LockType",
        "_thread.RLock",
        "asyncio.locks.Lock",
        "asyncio.locks.Event",
        "asyncio.locks.Semaphore",
        "multiprocessing.synchronize.Lock",
        "multiprocessing.synchronize.RLock",
    }
)

# --- enums -----------------------------------------------------------------------------------
ENUM: Final = "enum.Enum"

# --- third-party classes recognised by their place in a class's MRO ----------------------------
PYDANTIC_BASE_MODEL: Final = "pydantic.main.BaseModel"
DJANGO_MODEL: Final = "django.db.models.base.Model"
DJANGO_QUERYSET: Final = "django.db.models.query.QuerySet"
DJANGO_PROMISE: Final = "django.utils.functional.Promise"

# --- celery and kombu ------------------------------------------------------------------------
CELERY_APP: Final = "celery.app.base.Celery"
CELERY_TASK: Final = "celery.app.task.Task"
#: The task class of a Django project's app (Celery 5.4+ fix-up): ``delay_on_commit``.
DJANGO_TASK: Final = "celery.contrib.django.task.DjangoTask"
DJANGO_TASK_MODULE: Final = "celery.contrib.django.task"
CELERY_SHARED_TASK: Final = "celery.app.shared_task"
KOMBU_REGISTER_TYPE: Final = "kombu.utils.json.register_type"
REGISTER_PRESERIALIZER: Final = "celery_boundary.runtime.register_preserializer"
REGISTER_MODELS: Final = "celery_boundary.runtime.register_models"
