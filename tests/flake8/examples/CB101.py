"""CB101: pickle as task / result / event serializer, in every configuration style."""
import hmac
import os
import pickle

import environ
from celery import Celery
from kombu.serialization import register

env = environ.Env()

# celeryconfig-style module attributes
task_serializer = "pickle"  # CB101
result_serializer = "json"
event_serializer = "pickle"  # CB101

# Django settings (namespace="CELERY") and the old upper-case names
CELERY_TASK_SERIALIZER = "pickle"  # CB101
CELERY_RESULT_SERIALIZER = "pickle"  # CB101

# Settings from the environment: the value is unknown (silent); a pickle default is not
CELERY_EVENT_SERIALIZER = env("CELERY_EVENT_SERIALIZER")
CELERY_TASK_SERIALIZER = env.str("CELERY_TASK_SERIALIZER", default="json")
CELERY_RESULT_SERIALIZER = os.environ.get("RESULT_SERIALIZER", "pickle")  # CB101

app = Celery("proj", task_serializer="pickle")  # CB101
app.conf.update(result_serializer="pickle")  # CB101
app.conf.update({"task_serializer": "pickle"})  # CB101
app.conf.result_serializer = "pickle"  # CB101
app.conf["event_serializer"] = "pickle"  # CB101
app.config_from_object({"result_serializer": "pickle"})  # CB101

SERIALIZER = "pickle"
app.conf.task_serializer = SERIALIZER  # CB101
app.conf.task_serializer = "pickle" if os.environ.get("LEGACY") else "json"  # CB101


class CeleryConfig:
    task_serializer = "pickle"  # CB101
    result_serializer = "json"


# A serializer registered with kombu whose functions use pickle is pickle.
def _dumps(obj):
    return pickle.dumps(obj)


def _loads(data):
    return pickle.loads(data)


register("fastpickle", _dumps, _loads, content_type="application/x-fastpickle")
app.conf.task_serializer = "fastpickle"  # CB101

# Signing does not make it safe to load: whoever holds the key (or a bug in the check) runs code.
KEY = b"secret"


def _signed_dumps(obj):
    body = pickle.dumps(obj)
    return hmac.new(KEY, body, "sha256").digest() + body


def _signed_loads(data):
    return pickle.loads(data[32:])


register("signed_pickle", _signed_dumps, _signed_loads, "application/x-signed-pickle")
app.conf.result_serializer = "signed_pickle"  # CB101

# Registered in another module: a name with "pickle" in it is taken at its word.
CELERY_RESULT_SERIALIZER = "signed-pickle"  # CB101

# Data-only serializers are fine, and so is a serializer registered without pickle.
register("plainjson", lambda o: str(o), lambda s: s, "application/x-plain")
app.conf.task_serializer = "json"
app.conf.result_serializer = "msgpack"
app.conf.event_serializer = "plainjson"


def configure(task_serializer="pickle"):
    # a parameter and a local variable are not settings
    result_serializer = "pickle"
    return task_serializer, result_serializer


os.environ["CELERY_TASK_SERIALIZER"] = "pickle"
