"""``analysis.registrations``: which calls register which class, read from the source (the runtime
behaviour of each shape is pinned in tests/truth/test_registration_helpers.py)."""

from __future__ import annotations

import ast
import textwrap

from celery_boundary.analysis.registrations import Found, Module, find_registrations


def read(**files: str) -> list[Found]:
    modules = [Module(name, name.replace(".", "/") + ".py", ast.parse(textwrap.dedent(text)))
               for name, text in files.items()]
    return find_registrations(modules)


def test_direct_calls_keep_kombus_marker_and_the_runtime_flag() -> None:
    found = read(app="""
        from kombu.utils.json import register_type
        from celery_boundary.runtime import register_preserializer
        from proj.models import A, B, C

        register_type(A, "a", lambda o: o.v, lambda v: A(v))
        register_type(B, None, lambda o: o.v)
        register_preserializer(C, include_subclasses=True)
    """)
    assert [(f.fullname, f.marker, f.keeps_subclass, f.via, f.line) for f in found] == [
        ("proj.models.A", "a", False, "register_type", 6),
        ("proj.models.B", None, False, "register_type", 7),
        ("proj.models.C", "preserializer", True, "register_preserializer", 8),
    ]
    assert found[0].origin == "register_type at app.py:6"


def test_helpers_calling_helpers_at_any_depth_and_in_cycles() -> None:
    found = read(
        helpers="""
            from kombu.utils.json import register_type

            def one(cls):
                register_type(cls, "x", lambda o: o, lambda v: cls(v))

            def two(cls):
                one(cls)

            def three(cls, again=False):
                two(cls)
                if again:
                    three(cls)
        """,
        app="""
            from helpers import three
            from proj.models import Money
            three(Money)
        """,
    )
    assert [(f.fullname, f.via, f.marker) for f in found] == [("proj.models.Money", "helpers.three", "x")]


def test_a_method_of_a_module_level_instance_registers() -> None:
    found = read(app="""
        from kombu.utils.json import register_type

        class Registry:
            def add(self, cls):
                register_type(cls, cls.__name__, lambda o: o.value, lambda v: cls(v))
                return cls

        registry = Registry()

        @registry.add
        class Money:
            pass

        registry.add(Money)
    """)
    assert [(f.fullname, f.via, f.line) for f in found] == [
        ("app.Money", "app.Registry.add", 11), ("app.Money", "app.Registry.add", 15)]


def test_a_one_way_helper_and_a_helper_that_never_registers_its_parameter() -> None:
    found = read(app="""
        from kombu.utils.json import register_type
        from proj.models import A, B

        def one_way(cls):
            register_type(cls, None, str)

        def fixed(cls):
            register_type(A, "a", str, A)

        one_way(B)
        fixed(B)
    """)
    assert [(f.fullname, f.marker, f.line) for f in found] == [("proj.models.A", "a", 9), ("proj.models.B", None, 11)]


def test_calls_of_unrelated_functions_register_nothing() -> None:
    assert read(app="""
        def setup(cls):
            return cls

        setup(int)
        print(len([1]))
    """) == []
