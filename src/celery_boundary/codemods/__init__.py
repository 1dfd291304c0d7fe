"""libcst fixes behind ``celery-boundary fix``: one module per fix, each a transformer that edits only
the statements a (non-silenced) finding points at, so ``noqa`` is honoured and a second run changes
nothing. Imported only by ``fix``: libcst takes about 160 ms to import, and ``check`` never imports
it (tests/cli/test_cli_fix.py::test_fix_imports_libcst_but_check_does_not).

- ``pickle_json``: CB101-CB103, pickle -> json (unsafe: queued pickle messages, see docs/rules)
- ``private_task``: CB202, rename a chain-only task to ``_name`` in every module (safe; keeps its
  registered name with ``name=``)
- ``beat_expiry``: CB401, ``expires`` = the period for periodic entries with a numeric schedule (safe)
"""
