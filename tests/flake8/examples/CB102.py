"""CB102: pickle (by name or content type) in accept_content / result_accept_content."""
import os

from celery import Celery

app = Celery("proj")

accept_content = ["json", "pickle"]  # CB102
CELERY_ACCEPT_CONTENT = ("json", "application/x-python-serialize")  # CB102
CELERY_RESULT_ACCEPT_CONTENT = {"pickle"}  # CB102
RESULT_ACCEPT_CONTENT = ["json"]
app.conf.accept_content = ["pickle", "json"]  # CB102
app.conf.update(accept_content=["pickle"])  # CB102
app.conf["result_accept_content"] = ["json", "pickle"]  # CB102
app.config_from_object({"accept_content": ["pickle"]})  # CB102
app.conf.accept_content += ["pickle"]  # CB102
app.conf.accept_content.append("pickle")  # CB102
CELERY_ACCEPT_CONTENT.extend(["json", "pickle"])  # CB102
other = Celery("other", accept_content=["json", "yaml"])
app.setup_security(allowed_serializers=["json", "pickle"])  # CB102

app.conf.accept_content = ["json", "application/x-signed-pickle"]  # CB102

# From the environment: unknown, silent
CELERY_ACCEPT_CONTENT = os.environ.get("ACCEPT", "json").split(",")
