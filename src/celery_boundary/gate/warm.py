"""``check``'s per-file work through the warm cache (``gate/cache.py``): the rules and facts of the
checked files, the task factories of every file, and what the project-wide pass asks of the files
that were not checked. Each answer is the one the cold path gives (``FileSource`` here,
``engine.check_file``, ``factory_scan``), read from the cache when the file's content is known,
computed and stored otherwise."""

from __future__ import annotations

import base64
import functools
import json
import re
import zlib
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
from celery_boundary.gate.cache_codec import (decode_facts, decode_light_facts, decode_result, encode, encode_result,
                                              light_part)
from celery_boundary.gate.engine import (INTERNAL_ERROR, UNREADABLE, FileResult, Progress, check_file, facts_of,
                                         might_apply, run_each)
from celery_boundary.gate.files import display, read_source

_WORD: Final = re.compile(r"\w+")
#: A module that may configure Django's databases or name the settings module (CB206 in views: the
#: settings modules mention no task).
_SETTINGS_WORDS: Final = frozenset({"DATABASES", "DJANGO_SETTINGS_MODULE"})
#: A packed result unpacks to at most this many bytes plus a hundred times its own size (results
#: compress four to one); one that would unpack further is taken as damaged and recomputed.
_MOST_UNPACKED: Final = 1 << 20
#: Up to this many words, looking for each in a file's stored words beats splitting them into a set.
_FEW_WORDS: Final = 16


class FileSource:
    """What the project-wide pass asks of a file that was not checked (or not parsed), read from disk."""

    def __init__(self) -> None:
        self._last: tuple[Path, str] | None = None

    def mentions(self, path: Path, words: frozenset[str]) -> bool:
        """Whether the file's text holds one of ``words`` as a whole word (``\\b...\\b``)."""
        return _text_mentions(self._text(path), words)

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
        self._checked: dict[Path, list[Any] | None] = {}  # applies, then facts, ask it of one file

    def mentions(self, path: Path, words: frozenset[str]) -> bool:
        stored = self.cache.get(path, "words")
        if not isinstance(stored, str):
            stored = self._compute(path, "words", _words)
            if stored is None:
                return super().mentions(path, words)
        return _names_in(stored, words)

    def applies(self, path: Path, config: Config) -> bool:
        stored = self.cache.get(path, "applies")
        if isinstance(stored, bool):
            return stored
        checked = self._stored_check(path)
        if checked is not None and isinstance(checked[3], bool) and not str(checked[2] or "").startswith(UNREADABLE):
            return checked[3]  # check_file parses exactly the files the pre-test lets through
        answer = self._compute(path, "applies", lambda data: might_apply(_text_of(data), config))
        return super().applies(path, config) if answer is None else bool(answer)

    def facts(
        self, path: Path, config: Config, roots: frozenset[str], light: bool = False
    ) -> project.ModuleFacts | None:
        decode = decode_light_facts if light else decode_facts
        checked = self._stored_check(path)
        if checked is not None and checked[3] is True and not str(checked[2] or "").startswith(INTERNAL_ERROR):
            try:  # what facts_of gives a file that check_file parsed (a whole-tree run's result)
                return decode(checked[4] if light else _parsed(checked[1])[3], display(path))
            except (ValueError, TypeError, RecursionError):  # damaged: computed below
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

    def _stored_check(self, path: Path) -> list[Any] | None:
        if path not in self._checked:
            self._checked[path] = _stored_check(self.cache, path)
        return self._checked[path]

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
            cache.put(path, "check", _check_part(cache.module_of(path), result), sha, state)
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


def _check_part(module: str, result: FileResult) -> list[Any]:
    """What the cache stores of ``check_file``'s result: [the module name it was computed for, the
    encoded result packed into text (``_packed``), why the file was skipped, whether it was parsed,
    its light facts]. The text is unpacked only for the files a run checks or reads whole (a one-file
    check in a 4,000-file project reads every other file's light facts only)."""
    raw = encode_result(result)
    light = None if raw[3] is None else light_part(raw[3])
    return [module, _packed(raw), raw[1], raw[4], light]


def _stored_check(cache: Cache, path: Path) -> list[Any] | None:
    """The stored ``_check_part`` of the file, if it is for the file's module name today."""
    stored = cache.get(path, "check")
    if not isinstance(stored, list) or len(stored) != 5 or not isinstance(stored[1], str):
        return None
    if stored[0] != cache.module_of(path):  # an __init__.py came or went: the dotted names moved
        return None
    return stored


def _stored_raw(cache: Cache, path: Path) -> list[Any] | None:
    """The stored result of ``check_file`` (encoded), if it is for the file's module name today."""
    stored = _stored_check(cache, path)
    try:
        return None if stored is None else _parsed(stored[1])
    except (ValueError, RecursionError):
        return None


def _packed(raw: list[Any]) -> str:
    """An encoded result as JSON, compressed, in base85: a quarter of the JSON's size in the cache
    file and no quote to escape, so the cache loads and saves faster; compressing costs a few
    microseconds per file checked."""
    return base64.b85encode(zlib.compress(json.dumps(raw, separators=(",", ":")).encode(), 1)).decode("ascii")


def _parsed(text: str) -> list[Any]:
    """The encoded result a ``_check_part``'s text packs; raises ValueError if it is not one."""
    packed = base64.b85decode(text)
    unpacker = zlib.decompressobj()
    try:  # bounded: a damaged or hostile cache file cannot make it fill the memory
        data = unpacker.decompress(packed, _MOST_UNPACKED + 100 * len(packed))
    except zlib.error as exc:
        raise ValueError(f"not a packed result: {exc}") from None
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise ValueError("a packed result that does not end, or unpacks too far: recomputed")
    raw = json.loads(data)
    if not isinstance(raw, list) or len(raw) != 5:
        raise ValueError("not an encoded result")
    return raw


def _narrowed(result: FileResult, chosen: frozenset[str], wanted: bool) -> FileResult:
    """A result with every code, as ``engine.check_file`` gives it for ``chosen``."""
    return replace(result, findings=tuple(f for f in result.findings if f.code in chosen),
                   facts=result.facts if wanted else None)


def _text_mentions(text: str, words: frozenset[str]) -> bool:
    """Whether ``text`` holds one of ``words`` as a whole word."""
    if _plain(words):
        return not words.isdisjoint(_WORD.findall(text))
    return _pattern(words).search(text) is not None


def _names_in(stored: str, words: frozenset[str]) -> bool:
    """Whether one of ``words`` is among a file's stored words (``_words``: each ``\\w+`` of its text
    once, sorted, joined by single spaces): a few words are looked up one by one, many in a set."""
    if not _plain(words):
        return _pattern(words).search(stored) is not None
    if len(words) <= _FEW_WORDS:
        spaced = f" {stored} "
        return any(f" {word} " in spaced for word in words)
    return not words.isdisjoint(stored.split(" "))


@functools.lru_cache(maxsize=8)
def _plain(words: frozenset[str]) -> bool:
    """Whether every word is one ``\\w+`` word (a task's name is): whether it is mentioned is then
    whether it is one of the text's words. A regular expression of thousands of names costs a
    second to compile."""
    return all(_WORD.fullmatch(word) for word in words)


@functools.lru_cache(maxsize=8)
def _pattern(words: frozenset[str]) -> re.Pattern[str]:
    """Any of ``words`` as a whole word."""
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")


def _words(data: bytes) -> str:
    return " ".join(sorted(set(_WORD.findall(_text_of(data)))))


def _decoded(path: Path) -> str:
    try:
        return _text_of(read_source(path))
    except OSError:
        return ""


def _text_of(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
