"""``check``'s per-file work through the warm cache (``gate/cache.py``): the rules and facts of the
checked files, the task factories of every file, and what the project-wide pass asks of the files
that were not checked. Each answer is the one the cold path gives (``FileSource`` here,
``engine.check_file``, ``factory_scan``), read from the cache when the file's content is known,
computed and stored otherwise."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Final

from celery_boundary import checks
from celery_boundary.analysis import project
from celery_boundary.core.config import Config
from celery_boundary.gate import cache as cache_module
from celery_boundary.gate.cache import MISSING, Cache, StatKey
from celery_boundary.gate.cache_codec import decode_facts, decode_light_facts, decode_result, encode, encode_result
from celery_boundary.gate.engine import (INTERNAL_ERROR, UNREADABLE, FileResult, Progress, check_file, facts_of,
                                         might_apply, run_each)
from celery_boundary.gate.files import display, read_source

_WORD: Final = re.compile(r"\w+")
#: A module that may configure Django's databases or name the settings module (CB206 in views: the
#: settings modules mention no task).
_SETTINGS_WORDS: Final = re.compile(r"\b(?:DATABASES|DJANGO_SETTINGS_MODULE)\b")


class FileSource:
    """What the project-wide pass asks of a file that was not checked (or not parsed), read from disk."""

    def __init__(self) -> None:
        self._last: tuple[Path, str] | None = None

    def mentions(self, path: Path, pattern: re.Pattern[str]) -> bool:
        """Whether the file's text holds a match of ``pattern`` (whole words: ``\\b...\\b``)."""
        return pattern.search(self._text(path)) is not None

    def applies(self, path: Path, config: Config) -> bool:
        return might_apply(self._text(path), config)

    def settings_like(self, path: Path) -> bool:
        """Whether the module may configure Django's databases or name the settings module."""
        return self.mentions(path, _SETTINGS_WORDS)

    def facts(
        self, path: Path, config: Config, roots: frozenset[str], light: bool = False
    ) -> project.ModuleFacts | None:
        """The module's facts; ``light``: only those of ``cache_codec.LIGHT_FIELDS`` are needed (the
        others may be left empty)."""
        return facts_of(path, config, roots)

    def _text(self, path: Path) -> str:
        if self._last is None or self._last[0] != path:
            self._last = (path, _decoded(path))
        return self._last[1]


class CachedSource(FileSource):
    """The same answers from the cache: a file's words stand for its text (a ``\\b``-delimited word
    pattern matches the text exactly when it matches one of its ``\\w+`` words)."""

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self.cache = cache

    def mentions(self, path: Path, pattern: re.Pattern[str]) -> bool:
        words = self.cache.get(path, "words")
        if not isinstance(words, str):
            words = self._compute(path, "words", _words)
            if words is None:
                return super().mentions(path, pattern)
        return pattern.search(words) is not None

    def applies(self, path: Path, config: Config) -> bool:
        stored = self.cache.get(path, "applies")
        if isinstance(stored, bool):
            return stored
        checked = _stored_raw(self.cache, path)
        if checked is not None and isinstance(checked[4], bool) and not str(checked[1] or "").startswith(UNREADABLE):
            return checked[4]  # check_file parses exactly the files the pre-test lets through
        answer = self._compute(path, "applies", lambda data: might_apply(_text_of(data), config))
        return super().applies(path, config) if answer is None else bool(answer)

    def facts(
        self, path: Path, config: Config, roots: frozenset[str], light: bool = False
    ) -> project.ModuleFacts | None:
        decode = decode_light_facts if light else decode_facts
        checked = _stored_raw(self.cache, path)
        if checked is not None and checked[4] is True and not str(checked[1] or "").startswith(INTERNAL_ERROR):
            try:  # what facts_of gives a file that check_file parsed (a whole-tree run's result)
                return decode(checked[3], display(path))
            except (ValueError, TypeError):  # damaged: computed below
                pass
        stored = self.cache.get(path, "extra")
        if stored is not MISSING:
            try:
                module, raw = stored
                if module == self.cache.module_of(path):
                    return decode(raw, display(path))
            except (ValueError, TypeError):  # damaged: recompute
                pass
        try:
            data, sha, state = cache_module.read(path)
        except OSError:
            return super().facts(path, config, roots)
        found = facts_of(path, config, roots, data)
        value = [self.cache.module_of(path), None if found is None else encode(replace(found, path=""))]
        self.cache.put(path, "extra", value, sha, state)
        return found

    def _compute(self, path: Path, part: str, compute: Any) -> Any:
        try:
            data, sha, state = cache_module.read(path)
        except OSError:
            return None
        value = compute(data)
        self.cache.put(path, part, value, sha, state)
        return value


def check_files(
    paths: Sequence[Path], config: Config, chosen: frozenset[str], cache: Cache, *, jobs: int = 0,
    progress: Progress | None = None, roots: frozenset[str] = frozenset(),
) -> list[FileResult]:
    """``engine.check_files`` through the cache: files whose content it knows are not read; every
    other file is checked for every code (stored) and narrowed to ``chosen``."""
    wanted = bool(checks.PROJECT_CODES & chosen)
    tick = progress.advance if progress else (lambda: None)
    results: dict[int, FileResult] = {}
    for position, path in enumerate(paths):
        stored = _stored_result(cache, path)
        if stored is not None:
            results[position] = _narrowed(stored, chosen, wanted)
            tick()
    todo = [position for position in range(len(paths)) if position not in results]
    work = partial(_check_for_cache, config=config, roots=roots)
    for position, (result, words, sha, state) in zip(todo, run_each(work, [paths[p] for p in todo], jobs, tick)):
        if sha is not None:
            path = paths[position]
            cache.put(path, "check", [cache.module_of(path), encode_result(result)], sha, state)
            cache.put(path, "words", words, sha, state)  # a later one-file check asks whether it names a task
        results[position] = _narrowed(result, chosen, wanted)
    return [results[position] for position in range(len(paths))]


def stored_factories(cache: Cache, path: Path, find: Any) -> tuple[list[str], list[str]]:
    """The factories and schedule wrappers ``find(text)`` finds in the file (``factory_scan``),
    through the cache."""
    stored = cache.get(path, "factories")
    if isinstance(stored, list) and len(stored) == 2 and all(
            isinstance(names, list) and all(isinstance(name, str) for name in names) for names in stored):
        return stored[0], stored[1]
    try:
        data, sha, state = cache_module.read(path)
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as Path.read_text reads
    except (OSError, UnicodeDecodeError):
        return [], []
    factories, wrappers = find(text)
    cache.put(path, "factories", [factories, wrappers], sha, state)
    return factories, wrappers


def _check_for_cache(path: Path, config: Config, roots: frozenset[str]) -> tuple[
        FileResult, str, str | None, StatKey | None]:
    """Every code's findings and the facts, the file's words, and the digest of the bytes they came
    from (None: unread)."""
    try:
        data, sha, state = cache_module.read(path)
    except OSError:
        return check_file(path, config, None, roots), "", None, None
    return check_file(path, config, None, roots, data), _words(data), sha, state


def _stored_result(cache: Cache, path: Path) -> FileResult | None:
    raw = _stored_raw(cache, path)
    try:
        return None if raw is None else decode_result(raw, display(path))
    except (ValueError, TypeError):  # Damaged included: recompute, never trust
        return None


def _stored_raw(cache: Cache, path: Path) -> list[Any] | None:
    """The stored result of ``check_file`` (encoded), if it is for the file's module name today."""
    stored = cache.get(path, "check")
    if not isinstance(stored, list) or len(stored) != 2:
        return None
    module, raw = stored
    if module != cache.module_of(path):  # an __init__.py came or went: the dotted names moved
        return None
    return raw if isinstance(raw, list) and len(raw) == 5 else None


def _narrowed(result: FileResult, chosen: frozenset[str], wanted: bool) -> FileResult:
    """A result with every code, as ``engine.check_file`` gives it for ``chosen``."""
    return replace(result, findings=tuple(f for f in result.findings if f.code in chosen),
                   facts=result.facts if wanted else None)


def _words(data: bytes) -> str:
    return " ".join(sorted(set(_WORD.findall(_text_of(data)))))


def _decoded(path: Path) -> str:
    try:
        return _text_of(read_source(path))
    except OSError:
        return ""


def _text_of(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
