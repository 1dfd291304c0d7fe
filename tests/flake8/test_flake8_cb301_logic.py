"""CB301 reads business logic, not size: each shape of plumbing that a size rule mistook for logic
weighs (almost) nothing, each shape of logic it missed is reported, and the message names what it
saw and the fix. The shapes live in examples/CB301.py (checked code by code there too)."""

from __future__ import annotations

import ast

import pytest

from celery_boundary.analysis.index import build_index
from celery_boundary.checks import RuleSettings, check_tree
from celery_boundary.checks.thin_tasks import measure_task
from flake8_expectations import EXAMPLES

SOURCE = (EXAMPLES / "CB301.py").read_text(encoding="utf-8")
TREE = ast.parse(SOURCE)
WEIGHTS = {t.name: measure_task(t) for t in build_index(TREE, frozenset()).every_task}
MESSAGES = {f.line: f.message for f in check_tree(TREE, RuleSettings()) if f.code == "CB301"}


def message_of(task: str) -> str:
    line = next(n.lineno for n in ast.walk(TREE) if isinstance(n, ast.FunctionDef) and n.name == task)
    return MESSAGES[line]


@pytest.mark.parametrize("task", ["thin", "send_smtp", "post_webhook", "reindex_all", "rebuild_search",
                                  "report_queue_sizes", "refresh_account", "nightly",
                                  "build_export"])
def test_plumbing_weighs_nothing(task: str) -> None:
    assert WEIGHTS[task].score == 0, WEIGHTS[task]


def test_a_loop_that_mails_owners_weighs_its_one_context() -> None:
    assert WEIGHTS["mail_owners"].score == 1 and WEIGHTS["mail_owners"].records == 1


def test_raw_sql_text_is_reported_by_its_statements() -> None:
    assert WEIGHTS["rank_authors"].sql == 3
    assert "3 raw SQL statements" in message_of("rank_authors")


def test_a_query_built_clause_by_clause_is_logic() -> None:
    assert WEIGHTS["rank_dependents"].queries >= 8
    assert "query clauses (filters, joins, groupings)" in message_of("rank_dependents")


def test_an_expiry_policy_is_reported_with_what_it_decides() -> None:
    found = WEIGHTS["expire_orders"]
    assert (found.decisions, found.computations, found.fields_set) == (2, 1, 3)
    assert "1 computation" in message_of("expire_orders")


def test_the_message_names_the_logic_and_the_fix() -> None:
    text = message_of("notify_followers")
    assert text.startswith("task 'notify_followers' holds business logic (4 branches on the data, "
                           "2 records built, 1 query clause (filters, joins, groupings); weight 7 > 6)")
    assert "function or service that the task calls with its arguments" in text


def test_the_threshold_is_a_setting() -> None:
    def reported(limit: int) -> int:
        return sum(1 for f in check_tree(TREE, RuleSettings(max_task_logic=limit)) if f.code == "CB301")
    assert (reported(100), reported(6), reported(0)) == (0, len(MESSAGES), len(MESSAGES) + 1)  # + mail_owners


def test_a_guard_is_plumbing_but_the_same_test_with_an_else_decides() -> None:
    guard = "from celery import shared_task\n\n@shared_task\ndef t(order):\n    if order.total > 10:\n        return\n"
    decide = guard + "    else:\n        order.flag = 1\n"
    weights = [measure_task(build_index(ast.parse(s), frozenset()).every_task[0]).score for s in (guard, decide)]
    assert weights == [0, 2]


def weigh(body: str, params: str = "job_id") -> object:
    """The logic of a one-task module whose task takes ``params`` and runs ``body``."""
    source = f"from celery import shared_task\n\n\n@shared_task\ndef task({params}):\n" + "".join(
        f"    {line}\n" for line in body.strip("\n").splitlines())
    return measure_task(build_index(ast.parse(source), frozenset()).every_task[0])


def test_joining_text_or_paths_is_not_a_query_join() -> None:
    found = weigh('''
sep = ", "
names = ", ".join(str(p.id) for p in started)
lines = "\\n".join(f"{k}: {v}" for k, v in errors.items())
where = os.path.join(root, job_id)
listed = sep.join(names)
logger.info("done %s %s %s %s", names, lines, where, listed)
''')
    assert found.queries == 0, found
    joined = weigh("rows = session.execute(select(A).join(B, B.a_id == A.id).outerjoin(C)).all()\n"
                   "services.store(rows)\nquery.join(D)")
    assert joined.queries == 3, joined


def test_a_job_row_reporting_its_own_run_is_bookkeeping() -> None:
    found = weigh('''
job = Installation.objects.get(pk=job_id)
job.status = JobStatus.RUNNING
job.started_at = timezone.now()
job.save()
try:
    services.install(job)
except ValidationError as exc:
    job.message = ", ".join(f"{k}: {v}" for k, v in exc.message_dict.items())
    job.status = JobStatus.FAILED
    job.last_error = {"type": type(exc).__name__, "text": str(exc), "at": timezone.now().isoformat()}
else:
    job.status = JobStatus.SUCCESS
    job.finished_at = timezone.now()
    job.progress = 100
job.save(update_fields=["status", "message", "last_error", "finished_at", "progress"])
ImportJob.objects.filter(pk=job_id).update(status="failed", error="", finished_at=None)
''')
    assert (found.fields_set, found.records, found.queries) == (0, 0, 0), found
    bundle = weigh('''
bundle = Bundle.objects.get(pk=job_id)
bundle.status = Bundle.Status.PROCESSING
bundle.built_at = None
try:
    services.build(bundle)
    bundle.status = Bundle.Status.READY
    bundle.built_at = timezone.now()
except OSError as exc:
    bundle.status = Bundle.Status.FAILED
    bundle.last_error = str(exc)
''')
    assert bundle.fields_set == 0, bundle
    # a domain state set on a domain row still counts, a run state too when nothing tracks a run
    # (examples/CB301.py expire_orders: 3 fields)
    assert weigh("order = Order.objects.get(pk=job_id)\norder.status = 'expired'\norder.total = 0\n").fields_set == 2
    assert weigh("payment = Payment.objects.get(pk=job_id)\npayment.status = PaymentStatus.FAILED\n"
                 "payment.failed_at = timezone.now()\n").fields_set == 2
    assert weigh("Engagement.objects.filter(target_end__lte=job_id).update(status='Completed', active=False)"
                 ).fields_set == 2


def test_text_and_request_bodies_for_an_http_api_are_transport() -> None:
    found = weigh('''
item = db.get(Report, job_id)
text = dedent(f"""
    Kind: {item.kind}
    Summary: {item.summary}
""")
for owner in item.owners:
    text += f"Owner: {owner.name}\\n"
    text += "URL: " + owner.url + "\\n"
body = {"type": "email", "subject": f"Report {item.name}", "mailbox": helpdesk.mailbox, "text": text}
body["threads"] = [{"type": "customer", "text": text, "email": item.email}]
helpdesk.create_conversation(request_json=body)
client.post(url, json={"a": item.a, "b": item.b, "c": item.c})
tracker.create_issue(fields={"project": item.key, "summary": item.name, "type": "Epic"})
''')
    assert (found.computations, found.records) == (0, 0), found
    # the same dict handed to a service as data is a record built
    assert weigh('services.notify({"a": job_id.a, "b": job_id.b, "c": job_id.c})').records == 1


def test_option_flags_and_a_settings_row_choose_what_to_call() -> None:
    found = weigh('''
row = SystemSettings.objects.get()
if (pause := settings.TEST_PAUSE) > 0:
    sleep(pause)
if dedupe and row.enable_dedupe:
    dedupe_batch(ids)
if row.history:
    if row.enable_dedupe:
        logger.warning("history skipped")
    else:
        history_batch(ids)
if grading and row.enable_grade:
    from proj.grading import grade
    grade.delay(ids[0])
''', params="ids, *, dedupe=True, grading=True")
    assert found.decisions == 0, found
    # a flag that chooses a value set on the data is still a decision
    assert weigh("row = SystemSettings.objects.get()\nif row.strict:\n    job_id.level = 2\n").decisions == 1


def test_a_batch_picked_by_id_is_not_a_decision() -> None:
    found = weigh('''
ids = [p.id for p in starting | ending][:100]
starting = [p for p in starting if p.id in ids]
ending = [p for p in ending if p.pk not in ids]
kept = [row for row in rows if row.product_id in ids]
services.toggle(starting, ending, kept)
''', params="starting, ending, rows")
    assert found.decisions == 0, found
    assert weigh("big = [r for r in rows if r.total > 100]\nservices.flag(big)", params="rows").decisions == 1
