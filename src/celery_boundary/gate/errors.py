"""Errors the CLI prints as one line on stderr and exits 2 for (never a traceback)."""


class UsageError(Exception):
    """A bad command line: unknown format or code, missing path, unreadable baseline."""
