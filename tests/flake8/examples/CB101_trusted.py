# cb-settings: trusted_serializers=signed_pickle
"""CB101 with a signed pickle serializer accepted on purpose (trusted_serializers)."""
import hmac
import pickle

from celery import Celery
from kombu.serialization import register

app = Celery("proj")


def _signed_dumps(obj):
    body = pickle.dumps(obj)
    return hmac.new(b"k", body, "sha256").digest() + body


def _signed_loads(data):
    return pickle.loads(data[32:])


register("signed_pickle", _signed_dumps, _signed_loads, "application/x-signed-pickle")
app.conf.task_serializer = "signed_pickle"
app.conf.accept_content = ["json", "signed_pickle"]
app.conf.result_serializer = "pickle"  # CB101
