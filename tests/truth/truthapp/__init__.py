"""A one-model Django app for the truth tests (Django model instances and QuerySets)."""
