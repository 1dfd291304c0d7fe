"""[tool.celery_boundary] / [celery_boundary]: every key, and one clear line for every mistake."""

from pathlib import Path

import pytest

from celery_boundary.core import config
from celery_boundary.core.config import Config, ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # stop the upward search at the project root
    assert config.load(start=tmp_path) == Config()


def test_pyproject_table_is_read_from_a_subdirectory(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
[tool.celery_boundary]
app = "proj.celery"
serializer = "msgpack"
trust-any = false
preserializers = ["proj.models.Address"]
task_decorators = ["proj.tasks.job"]
lossy = "off"
max_task_logic = 20
""",
    )
    sub = tmp_path / "proj" / "deep"
    sub.mkdir(parents=True)
    loaded = config.load(start=sub)
    assert loaded.app == "proj.celery"
    assert loaded.serializer == "msgpack"
    assert loaded.trust_any is False
    assert loaded.preserializers == ("proj.models.Address",)
    assert loaded.task_decorators == ("proj.tasks.job",)
    assert loaded.lossy == "off"
    assert loaded.max_task_logic == 20
    assert loaded.source == str(tmp_path / "pyproject.toml")


def test_pyproject_without_the_table_is_skipped_for_setup_cfg(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    write(
        tmp_path / "setup.cfg",
        "[celery_boundary]\napp = proj.app\npreserializers =\n    a.B\n    c.D\ntrust_any = no\n",
    )
    loaded = config.load(start=tmp_path)
    assert loaded.app == "proj.app"
    assert loaded.preserializers == ("a.B", "c.D")
    assert loaded.trust_any is False


@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini"])
def test_a_percent_sign_in_an_ini_file_is_read_as_written(tmp_path: Path, name: str) -> None:
    """No interpolation (flake8 reads these files the same way): ``%`` is neither an error nor a reference."""
    loaded = config.load(write(tmp_path / name, "[celery_boundary]\nexclude = legacy%*, 100%_generated\n"))
    assert loaded.exclude == ("legacy%*", "100%_generated")


def test_mypy_ini_celery_boundary_section_overrides_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # stop the upward search at the project root
    write(
        tmp_path / "mypy.ini",
        "[mypy]\nstrict = true\n\n[celery_boundary]\nlossy = off\ntrust_any = false\n"
        "max_task_logic = 5\nserializer = msgpack\n",
    )
    loaded = config.load(start=tmp_path)
    default = Config()
    assert (default.lossy, default.trust_any, default.max_task_logic, default.serializer) == ("error", True, 6, None)
    assert (loaded.lossy, loaded.trust_any, loaded.max_task_logic, loaded.serializer) == ("off", False, 5, "msgpack")
    assert loaded.source == str(tmp_path / "mypy.ini")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("bogus = 1", "unknown key 'bogus' in [celery_boundary]; allowed keys: app,"),
        ('lossy = "warn"', "lossy must be one of error, off, not 'warn'"),
        ('trust_any = "maybe"', "trust_any must be true or false, not 'maybe'"),
        ("preserializers = 3", "preserializers must be a list of dotted names, not 3"),
        ('preserializers = ["not a name"]', "'not a name' is not a dotted name"),
        ("max_task_logic = -1", "max_task_logic must be a whole number >= 0, not -1"),
        ('app = "proj/celery.py"', "app must be a dotted module name"),
        ('serializer = ""', "serializer must be a non-empty string"),
        ("max_task_statements = 30", "max_task_statements is retired: CB301 weighs the business logic"),
        ("max-task-depth = 3", "max-task-depth is retired"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.celery_boundary]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.celery_boundary\n")
    with pytest.raises(ConfigError, match="is not valid TOML") as info:
        config.load(path)
    assert "\n" not in str(info.value)


def test_table_of_wrong_kind(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool]\ncelery_boundary = 3\n")
    with pytest.raises(ConfigError, match=r"must be a table"):
        config.load(path)


@pytest.mark.parametrize(
    ("text", "app", "apps"),
    [
        ('[tool.celery_boundary]\napp = "svc.app"\n', "svc.app", ("svc.app",)),
        ('[tool.celery_boundary]\napp = ["svc.app", "legacy.worker:legacy"]\n',
         ("svc.app", "legacy.worker:legacy"), ("svc.app", "legacy.worker:legacy")),
        ('[tool.celery_boundary]\napp = ["svc.app"]\n', ("svc.app",), ("svc.app",)),
        ('[tool.celery_boundary]\napp = ["svc.app", "svc.app"]\n', ("svc.app",), ("svc.app",)),
    ],
)
def test_app_is_one_module_or_a_list(tmp_path: Path, text: str, app: object, apps: tuple[str, ...]) -> None:
    loaded = config.load(write(tmp_path / "pyproject.toml", text))
    assert loaded.app == app
    assert loaded.apps == apps


@pytest.mark.parametrize("value", ["svc.app, legacy.worker", "\n    svc.app\n    legacy.worker"])
def test_app_list_in_an_ini_file_is_comma_or_newline_separated(tmp_path: Path, value: str) -> None:
    loaded = config.load(write(tmp_path / "setup.cfg", f"[celery_boundary]\napp = {value}\n"))
    assert loaded.apps == ("svc.app", "legacy.worker")


def test_no_app_is_an_empty_list(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert config.load(start=tmp_path).apps == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('app = ["svc.app", "legacy/worker.py"]', "not 'legacy/worker.py'"),
        ("app = []", "must be a dotted module name like 'proj.celery' or a list of them"),
        ('app = ["svc.app", ""]', "or a list of them"),
        ("app = 3", "or a list of them, not 3"),
    ],
)
def test_a_bad_app_list_names_the_entry(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.celery_boundary]\n{body}\n")
    with pytest.raises(ConfigError, match="app must be") as info:
        config.load(path)
    assert expected in str(info.value)
