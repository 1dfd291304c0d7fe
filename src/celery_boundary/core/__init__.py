"""The boundary model: serializers, type verdicts, rules and configuration.

Imports nothing from mypy, flake8 or libcst (a test enforces it).
"""
