"""Hypothesis strategies for the fuzz tests: Python modules that are valid but odd.

``hypothesmith`` makes syntactically valid modules from the grammar (or from libcst's node
types); almost none of them mention Celery, so the rules return at the pre-test or find no task.
``celery_modules`` therefore builds modules from Celery-shaped fragments - task decorators with
odd options, settings in every style with odd values, canvases, results, beat entries, Task
subclasses, serializer registrations, shadowed names - so that every rule's reader meets values
it does not expect (non-strings, spreads, starred arguments, missing arguments, nesting).
"""

from __future__ import annotations

import ast
import textwrap

import hypothesmith
from hypothesis import strategies as st

#: Imported names a module may start with (some resolve to Celery, some deliberately do not).
PRELUDES = (
    "from celery import Celery, shared_task, chain, group, chord, signature",
    "import celery",
    "from celery import shared_task as st",
    "from celery.canvas import chain as ch",
    "from invoke import task",
    "from celery.task import task, periodic_task",
    "from celery.result import AsyncResult",
    "from kombu.serialization import register",
    "from kombu import serialization",
    "from django_celery_beat.models import PeriodicTask",
    "import os, pickle",
    "from proj.celery import app as capp",
)
APPS = ("app = Celery('x')", "app = celery.Celery()", "app = make_celery(flask)", "app = celery.current_app",
        "app = Celery('x', task_serializer={v}, accept_content={v})", "app = Celery(*a, **k)", "app = 1")
NAMES = ("t", "_t", "__t", "app", "x", "self", "capp", "st", "task", "chain", "r")
VALUES = ("'pickle'", "'json'", "None", "1", "b'pickle'", "['pickle']", "('json', 'application/x-python-serialize')",
          "os.environ.get('X', 'pickle')", "env('X', default='pickle')", "env.list('X', default=['pickle'])",
          "{'a': 1}", "dict(**x)", "dict(expires=1)", "lambda: 0", "[*x]", "f'{x}'", "x if y else 'pickle'",
          "'a' + 'pickle'", "...", "{}", "[]", "{'expires': None}", "{**x}", "(lambda: 'pickle')()", "x.y.z",
          "{'task': 't', 'schedule': 1}", "{'task': 1, 'options': 1}", "{'task': 't', 'options': {**x}}",
          "set()", "{'pickle'}", "frozenset(['pickle'])", "list('pickle')", "t", "t.s()", "-1", "1.5", "x[0]")
KEYS = ("task_serializer", "result_serializer", "accept_content", "result_accept_content", "event_serializer",
        "CELERY_TASK_SERIALIZER", "CELERY_ACCEPT_CONTENT", "CELERY_RESULT_ACCEPT_CONTENT", "beat_schedule",
        "CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE", "serializer", "expires", "task_decorators")
DECORATORS = ("app.task", "app.task()", "app.task({k}={v})", "shared_task", "st", "celery.shared_task",
              "celery.task", "task", "app.task(bind=True)", "shared_task(base={n})", "app.task(*a)",
              "app.task(**k)", "capp.task(name={v})", "periodic_task(run_every={v})", "other", "x.y.task",
              "app.task(serializer={v}, expires={v})", "staticmethod", "{n}")
STATEMENTS = (
    "{n}.delay({v})", "{n}.apply_async(({v},), serializer={v}, expires={v})", "{n}({v})",
    "chain({n}.s(), {n}.si()).delay()", "group({n}.s(i) for i in {v})()", "chord([{n}.s()])({n}.s())",
    "({n}.s() | {n}.s()).apply_async()", "ch({n}.s(), *x)()", "r = {n}.delay()\nr.get()",
    "r = AsyncResult({v})\nr.wait(timeout={v})", "r = chain()\nr.get()", "{n}.get({v})", "{v}.get()",
    "return chain({n}.s())", "return self.replace(group({n}.s()))", "{n} = {v}", "del {n}",
    "for {n} in {v}:\n    {n}.delay()", "while {v}:\n    break", "with allow_join_result():\n    {n}.get()",
    "if {v}:\n    pass\nelif {v}:\n    {n}.delay()\nelse:\n    pass",
    "try:\n    {n}.delay()\nexcept Exception as exc:\n    raise self.retry(exc=exc)",
    "try:\n    pass\nexcept* ValueError:\n    pass", "match {v}:\n    case 1:\n        {n}.delay()\n    case _:\n        pass",
    "async def inner():\n    await {n}.delay()", "lambda {n}: {n}.delay()", "[{n}.delay() for {n} in {v}]",
    "global {n}", "nonlocal_ = ({n} := {v})", "{n}.set(serializer={v}).delay()",
    "signature({v}, options={v}).apply_async()", "send_task({v}, args={v})",
)
MODULE_STATEMENTS = (
    "app.conf.{k} = {v}", "app.conf['{k}'] = {v}", "app.conf.update({k}={v})", "app.conf.update({{'{k}': {v}}})",
    "{k} = {v}", "{k}: list = {v}", "app.config_from_object({v})", "app.config_from_object({{'{k}': {v}}})",
    "app.conf.beat_schedule = {{{v}: {{'task': {v}, 'schedule': 1, 'options': {v}}}}}",
    "app.conf.beat_schedule[{v}] = {v}", "app.conf.beat_schedule.update({v})", "CELERY_BEAT_SCHEDULE = {{{v}: {v}}}",
    "app.add_periodic_task({v}, {n}.s(), expires={v})", "app.add_periodic_task()", "app.add_periodic_task(*x, **y)",
    "PeriodicTask.objects.create(task={v}, defaults={v})", "PeriodicTask.objects.get_or_create(**{v})",
    "register({v}, lambda o: pickle.dumps(o), pickle.loads, content_type={v})",
    "serialization.register('signed', dumps, loads, content_type={v}, content_encoding={v})",
    "class {n}(app.Task):\n    serializer = {v}\n    expires: int = {v}\n    def run(self, *a):\n{body}",
    "class {n}(celery.Task, {n}):\n    name = {v}", "class {n}({n}):\n    def run(self):\n{body}",
    "{n} = app.task({n})", "{n} = shared_task(**{v})({n})", "{n} = app.task(name={v})(lambda: 0)",
    "if {v}:\n    from celery import shared_task\nelse:\n    shared_task = {v}",
    "try:\n    import celery\nexcept ImportError:\n    celery = None",
)


def _fill(template: str, draw: st.DrawFn, body: str = "    pass") -> str:
    while "{n}" in template or "{v}" in template or "{k}" in template:
        template = template.replace("{n}", draw(st.sampled_from(NAMES)), 1)
        template = template.replace("{v}", draw(st.sampled_from(VALUES)), 1)
        template = template.replace("{k}", draw(st.sampled_from(KEYS)), 1)
    return template.replace("{body}", body).replace("{{", "{").replace("}}", "}")


def _body(draw: st.DrawFn, indent: str) -> str:
    lines = [_fill(s, draw) for s in draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=6))]
    return textwrap.indent("\n".join(lines), indent)


@st.composite
def celery_modules(draw: st.DrawFn) -> str:
    """A module built from Celery-shaped fragments; only modules that parse are kept."""
    parts = list(draw(st.lists(st.sampled_from(PRELUDES), min_size=1, max_size=4, unique=True)))
    parts.append(_fill(draw(st.sampled_from(APPS)), draw))
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            decorators = draw(st.lists(st.sampled_from(DECORATORS), min_size=0, max_size=3))
            head = "".join(f"@{_fill(d, draw)}\n" for d in decorators)
            name = draw(st.sampled_from(NAMES))
            kind = draw(st.sampled_from(("def", "async def")))
            params = draw(st.sampled_from(("", "self", "self, *a, **k", "x=1, /, *, y", "t")))
            parts.append(f"{head}{kind} {name}({params}):\n{_body(draw, '    ')}")
        else:
            template = draw(st.sampled_from(MODULE_STATEMENTS))
            parts.append(_fill(template, draw, _body(draw, "        ")))
    source = "\n\n".join(parts) + "\n"
    try:
        ast.parse(source)
    except SyntaxError:
        # A fragment combination that is not valid Python (``await`` outside async, ``return``
        # at module level, ...): keep the valid prefix instead of discarding the example.
        kept = [p for p in parts if _parses(p)]
        source = "\n\n".join(kept) + "\n"
    return source


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


#: A Celery prelude in front of grammar-generated code, so the pre-test passes and names resolve.
PRELUDE = "from celery import Celery, shared_task, chain, group\napp = Celery('x')\n"


def grammar_modules() -> st.SearchStrategy[str]:
    """hypothesmith's grammar-based modules, half of them behind a Celery prelude."""
    grammar = hypothesmith.from_grammar()
    return st.one_of(grammar, grammar.map(lambda s: PRELUDE + s).filter(_parses))


def node_modules() -> st.SearchStrategy[str]:
    """hypothesmith's libcst-based modules (closer to real code), behind a Celery prelude."""
    return hypothesmith.from_node().map(lambda s: PRELUDE + s).filter(_parses)
