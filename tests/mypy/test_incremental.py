"""Diagnostics survive mypy's cache and daemon: cold run, edited call site, warm run, dmypy.

The trap (mypy 2.4.1): a module loaded from the cache runs no hooks, so whatever a plugin
learned from hooks there is gone in a warm run. The plugin reads registrations from the app
module's source at start-up and fingerprints it in ``report_config_data``.
"""

from __future__ import annotations

import importlib
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from mypy import api

DaemonRuns = Callable[..., list[subprocess.CompletedProcess[str]]]

APP = """\
from dataclasses import dataclass
from celery import Celery
from celery_boundary.runtime import register_preserializer

app = Celery("proj")


@dataclass
class Address:
    street: str


@dataclass
class Secret:
    value: str


register_preserializer(Address)
"""

TASKS = """\
from proj.app import app


@app.task
def accept(value: object) -> None: ...
"""

CALLS = """\
from proj.app import Address, Secret
from proj.tasks import accept

accept.delay(Address("x"))
accept.delay(Secret("s"))
"""

SECRET_ERROR = (
    'calls.py:5: error: "accept.delay" argument "value" (Secret) cannot cross with the json serializer'
)


def write_project(root: Path) -> None:
    (root / "proj").mkdir()
    (root / "proj" / "__init__.py").write_text("")
    (root / "proj" / "app.py").write_text(APP)
    (root / "proj" / "tasks.py").write_text(TASKS)
    (root / "calls.py").write_text(CALLS)
    (root / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n\n[celery_boundary]\napp = proj.app\n")


def run_mypy(root: Path) -> list[str]:
    stdout, _, _ = api.run(["--cache-dir", str(root / ".mypy_cache"), "--config-file", str(root / "mypy.ini"), "calls.py", "proj"])
    return [line for line in stdout.splitlines() if ": error:" in line or ": note:" in line]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cold_edit_warm_give_identical_diagnostics(project: Path) -> None:
    cold = run_mypy(project)
    assert len(cold) == 1 and cold[0].startswith(SECRET_ERROR), cold
    # Edit only the call site: the app module (the registration) now comes from the cache.
    (project / "calls.py").write_text(CALLS + "\n# edited\n")
    warm = run_mypy(project)
    assert warm == cold


def test_editing_the_registration_invalidates_the_cache(project: Path) -> None:
    assert len(run_mypy(project)) == 1
    app = (project / "proj" / "app.py").read_text()
    (project / "proj" / "app.py").write_text(app.replace("register_preserializer(Address)", "register_preserializer(Address)\nregister_preserializer(Secret)"))
    assert run_mypy(project) == []
    (project / "proj" / "app.py").write_text(app.replace("register_preserializer(Address)", ""))
    after = run_mypy(project)
    assert len(after) == 2 and all("cannot cross with the json serializer" in line for line in after), after


def test_daemon_keeps_the_diagnostics(project: Path, dmypy_runs: DaemonRuns) -> None:
    runs = dmypy_runs(project, lambda: (project / "calls.py").write_text(CALLS + "\n# edited\n"))
    for result in runs:
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert len(errors) == 1 and errors[0].startswith(SECRET_ERROR), result.stdout + result.stderr


def test_daemon_follows_an_edited_registration(project: Path, dmypy_runs: DaemonRuns) -> None:
    """dmypy keeps one plugin across runs: it notices the app module changed and re-reads it."""
    app = project / "proj" / "app.py"
    first, second = dmypy_runs(project, lambda: app.write_text(app.read_text() + "register_preserializer(Secret)\n"))
    assert SECRET_ERROR in first.stdout, first.stdout + first.stderr
    assert ": error:" not in second.stdout, second.stdout + second.stderr


def test_bad_configuration_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n\n[celery_boundary]\nlossy = sometimes\n")
    _, _, status = api.run(["--cache-dir", str(project / ".mypy_cache"), "--config-file", str(project / "mypy.ini"), "calls.py"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().splitlines() == [
        f"celery-boundary: error: {project / 'mypy.ini'}: [celery_boundary] lossy must be one of error, off, not 'sometimes'"
    ]


def test_an_internal_failure_is_one_celery_internal_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    calls = importlib.import_module("celery_boundary.mypy.hooks.calls")  # also when this test runs alone
    monkeypatch.setattr(calls, "check_argument", explode)
    lines = run_mypy(project)
    internal = [line for line in lines if "[celery-internal]" in line]
    assert len(internal) == 1, lines
    assert "RuntimeError: boom" in internal[0] and "Please report it" in internal[0]
    assert not any("Traceback" in line for line in lines)


def test_report_config_data_changes_with_inputs(project: Path) -> None:
    from mypy.options import Options

    from celery_boundary.mypy.startup.settings import load_settings

    options = Options()
    options.config_file = str(project / "mypy.ini")
    before = load_settings(options).config_data()
    (project / "proj" / "app.py").write_text(APP + textwrap.dedent("\napp.conf.task_serializer = 'pickle'\n"))
    after = load_settings(options).config_data()
    assert before["app_fingerprint"] != after["app_fingerprint"]
    assert (before["serializer"], after["serializer"]) == ("json", "pickle")
    assert set(before["versions"]) == {"python", "celery", "kombu", "pydantic"}


MODELS_DECORATED = """\
from dataclasses import dataclass
from celery_boundary.runtime import register_preserializer


@register_preserializer
@dataclass
class Coupon:
    code: str
"""

COUPON_CALLS = """\
from proj.models import Coupon
from proj.tasks import accept

accept.delay(Coupon("x"))
"""


def test_a_decorated_registration_elsewhere_follows_edits(project: Path) -> None:
    """``@register_preserializer`` lives in the class's metadata: editing it re-checks its users."""
    (project / "proj" / "models.py").write_text(MODELS_DECORATED)
    (project / "calls.py").write_text(COUPON_CALLS)
    assert run_mypy(project) == []
    (project / "proj" / "models.py").write_text(MODELS_DECORATED.replace("@register_preserializer\n", ""))
    after = run_mypy(project)
    assert len(after) == 1 and '"accept.delay" argument "value" (Coupon) cannot cross' in after[0], after
    (project / "proj" / "models.py").write_text(MODELS_DECORATED)
    assert run_mypy(project) == []


PIPELINE = """\
from proj.app import app


@app.task
def fetch(url: str) -> int:
    return len(url)


@app.task
def shout(text: str) -> str:
    return text


FETCH = fetch.s("https://example.com")
"""

CANVAS_CALLS = """\
from proj.pipeline import FETCH, shout

FETCH | shout.s()
"""


def test_a_stored_signature_keeps_its_task_in_a_warm_run(project: Path) -> None:
    """The signature's plugin metadata (extra_attrs) comes back from the cache with its type."""
    (project / "proj" / "pipeline.py").write_text(PIPELINE)
    (project / "calls.py").write_text(CANVAS_CALLS)
    cold = [line for line in run_mypy(project) if "celery-canvas" in line]
    assert len(cold) == 1 and 'result of "fetch" ("int") to "shout" parameter "text"' in cold[0], cold
    (project / "calls.py").write_text(CANVAS_CALLS + "\n# edited\n")
    warm = [line for line in run_mypy(project) if "celery-canvas" in line]
    assert warm == cold


NAMED_TASKS = """\
from proj.app import app


@app.task(name="billing.charge")
def charge(account: int, cents: int) -> int:
    return cents
"""

NAMED_CALLS = """\
import proj.billing
from proj.app import app

app.send_task("billing.charge", args=[1, "250"])
"""

UNRELATED_CALLS = """\
from proj.app import app

app.send_task("billing.charge", args=[1, "250"])
"""


def test_a_task_sent_by_its_explicit_name_is_found_in_a_warm_run(project: Path) -> None:
    """The name rides on the task's type in the cache; a cached module is read, not re-hooked."""
    (project / "proj" / "billing.py").write_text(NAMED_TASKS)
    (project / "calls.py").write_text(NAMED_CALLS)
    cold = run_mypy(project)
    assert len(cold) == 1 and 'Argument 2 to "send_task" of "charge" has incompatible type "str"' in cold[0], cold
    (project / "calls.py").write_text(NAMED_CALLS + "\n# edited\n")
    assert run_mypy(project) == cold
    # Renaming the task changes its type: the call site is checked again and no longer resolves.
    (project / "proj" / "billing.py").write_text(NAMED_TASKS.replace("billing.charge", "billing.charge_v2"))
    assert run_mypy(project) == []


def test_an_explicit_name_without_an_import_is_silent_cold_and_warm(project: Path) -> None:
    """A cold run checks proj.billing before calls.py, a warm run does not load it: only imports count."""
    (project / "proj" / "billing.py").write_text(NAMED_TASKS)
    (project / "calls.py").write_text(UNRELATED_CALLS)
    assert run_mypy(project) == []
    (project / "calls.py").write_text(UNRELATED_CALLS + "\n# edited\n")
    assert run_mypy(project) == []


def test_the_daemon_keeps_and_follows_an_explicit_name(project: Path, dmypy_runs: DaemonRuns) -> None:
    """dmypy keeps one plugin (and its index of names) across runs: an index entry is re-checked on use."""
    (project / "proj" / "billing.py").write_text(NAMED_TASKS)
    (project / "calls.py").write_text(NAMED_CALLS)
    billing = project / "proj" / "billing.py"
    first, second, third = dmypy_runs(
        project,
        lambda: (project / "calls.py").write_text(NAMED_CALLS + "\n# edited\n"),
        lambda: billing.write_text(NAMED_TASKS.replace("billing.charge", "billing.charge_v2")),
    )
    for result in (first, second):
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert len(errors) == 1 and 'of "charge" has incompatible type "str"' in errors[0], result.stdout + result.stderr
    assert ": error:" not in third.stdout, third.stdout + third.stderr


BOUND_TASKS = """\
from proj.app import app


@app.task(bind=True)
def sync(self, account: int) -> None:
    self.retry(args=("acct",))
"""

BOUND_CALLS = """\
from proj.bound import sync

sync.delay("acct")
"""


def test_a_failure_after_the_definition_keeps_the_task_type(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound-body step is guarded on its own: one celery-internal, the task's calls still checked."""

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    (project / "proj" / "bound.py").write_text(BOUND_TASKS)
    (project / "calls.py").write_text(BOUND_CALLS)
    import celery_boundary.mypy.hooks.bound_calls as bound_calls

    monkeypatch.setattr(bound_calls, "prepare_bound_body", explode)
    lines = run_mypy(project)
    assert len([line for line in lines if "[celery-internal]" in line]) == 1, lines
    assert any('Argument 1 to "delay" of "sync" has incompatible type "str"' in line for line in lines), lines
