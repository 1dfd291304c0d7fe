"""The project-wide gate behind ``celery-boundary check``: findings, file discovery, ``noqa``, the rule
runner, the mypy merge, output formats (text, json, sarif, github) and the baseline.

Importing this package is cheap: mypy is imported only for ``check --mypy``, libcst never.
"""
