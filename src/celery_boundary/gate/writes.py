"""How ``fix`` changes files: all of them or none, each in one step, and a ``--diff`` that ``git apply``
takes.

``write_all`` stages every new text in a temporary file beside its target (same folder, so the final
``os.replace`` is a rename on one file system and cannot be seen half done), with the target's mode
and owner. Only when every file is staged are they renamed into place; if a rename fails, the files
already replaced get their old bytes back the same way. A symbolic link is written through: the file
it leads to is replaced and the link stays a link.

``unified_diff`` decodes and re-encodes each file in its own encoding (PEP 263 coding line, else
UTF-8), so a latin-1 module's diff carries latin-1 bytes, not U+FFFD.
"""

from __future__ import annotations

import ast
import os
import tokenize
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TextIO

from celery_boundary.gate.errors import UsageError


@dataclass(frozen=True)
class Change:
    """A file's bytes before and after its fixes."""

    before: bytes
    after: bytes


def emit(text: str, output: Path | None, out: TextIO, what: str) -> None:
    """A report to ``out``, or to the file ``output`` (``-o``); a file that cannot be written is one
    line naming it and ``what`` it was to hold."""
    if output is None:
        out.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the {what}: {exc.strerror or exc}") from None


def write_all(changes: Mapping[str, Change]) -> None:
    """Write every changed file, or none: raises UsageError (one line naming the file and saying that
    no file was changed) when one cannot be written."""
    staged: list[tuple[Path, str]] = []
    try:
        for shown, change in changes.items():
            target = _target(Path(shown))
            staged.append((target, _stage(target, change.after, shown)))
    except UsageError:
        for _, temporary in staged:
            Path(temporary).unlink(missing_ok=True)
        raise
    done: list[tuple[Path, bytes]] = []
    for (target, temporary), change in zip(staged, changes.values()):
        try:
            os.replace(temporary, target)
        except OSError as exc:
            for _, left in staged[len(done):]:
                Path(left).unlink(missing_ok=True)
            restored = _restore(done)
            raise UsageError(
                f"{target}: cannot write the fix: {exc.strerror or exc}; "
                + ("no file was changed" if restored else "some files could not be restored, check git status")
            ) from None
        done.append((target, change.before))


def _target(path: Path) -> Path:
    """The file a path leads to (through symbolic links), which is what gets replaced."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stage(target: Path, data: bytes, shown: str) -> str:
    """A temporary sibling of ``target`` holding ``data``, with the target's mode and owner."""
    import tempfile  # fix and -o only: with shutil and lzma, a fifth of check's own imports

    try:
        status = target.stat()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write the fix: {exc.strerror or exc}; no file was changed") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, status.st_mode & 0o7777)
        if (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except PermissionError:
                pass  # only root may give a file away; the file is then owned by whoever ran fix
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"{shown}: cannot write the fix: {exc.strerror or exc}; no file was changed") from None
    return temporary


def _restore(done: list[tuple[Path, bytes]]) -> bool:
    """Put back the old bytes of the files already replaced; False when one could not be."""
    ok = True
    for target, before in reversed(done):
        try:
            temporary = _stage(target, before, str(target))
            os.replace(temporary, target)
        except (OSError, UsageError):
            ok = False
    return ok


def still_parses(source: bytes) -> bool:
    """Whether a fixed text parses: ``fix`` never writes code that does not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in user code
            ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def encoding_of(source: bytes) -> str:
    """The encoding Python reads ``source`` in (PEP 263), UTF-8 when it cannot tell."""
    try:
        return tokenize.detect_encoding(BytesIO(source).readline)[0]
    except SyntaxError:
        return "utf-8"


def unified_diff(shown: str, change: Change) -> bytes:
    """The unified diff of one file, in the file's own encoding (``git apply`` reads bytes)."""
    import difflib  # only ``fix --diff`` prints one: ``check`` does not pay for the import

    encoding = encoding_of(change.before)
    old = change.before.decode(encoding, "surrogateescape").splitlines(keepends=True)
    new = change.after.decode(encoding, "surrogateescape").splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(old, new, f"a/{shown}", f"b/{shown}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines).encode(encoding, "surrogateescape")
