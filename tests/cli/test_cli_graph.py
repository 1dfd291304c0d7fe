"""``celery-boundary graph``: the launch graph of the sample projects (read from ``--format json``),
its filters, its DOT, its self-contained HTML page and what svg/png say without Graphviz."""

from __future__ import annotations

import contextlib
import functools
import html
import io
import json
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from celery_boundary.cli import main
from cli_helpers import write

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@functools.lru_cache(maxsize=None)
def graph_of(fixture: str, *args: str) -> str:
    """``celery-boundary graph . ARGS`` run in the fixture's folder (once per arguments)."""
    out = io.StringIO()
    here = os.getcwd()
    os.chdir(FIXTURES / fixture)
    try:
        with contextlib.redirect_stdout(out):
            assert main(["graph", ".", *args]) == 0
    finally:
        os.chdir(here)
    return out.getvalue()


def data_of(fixture: str, *args: str) -> dict[str, object]:
    loaded = json.loads(graph_of(fixture, "--format", "json", *args))
    assert isinstance(loaded, dict)
    return loaded


def edges(data: dict[str, object]) -> dict[tuple[str, str, str], dict[str, object]]:
    found = data["edges"]
    assert isinstance(found, list)
    return {(e["source"], e["target"], e["kind"]): e for e in found}


def nodes(data: dict[str, object]) -> dict[str, dict[str, object]]:
    found = data["nodes"]
    assert isinstance(found, list)
    return {n["id"]: n for n in found}


def codes(element: dict[str, object]) -> list[str]:
    found = element["findings"]
    assert isinstance(found, list)
    return sorted(f["code"] for f in found)


def test_shop_launches_canvases_and_beat() -> None:
    data = data_of("shop")
    links = edges(data)
    assert {key for key in links if key[0] == "sites:shop.views"} == {
        ("sites:shop.views", f"task:shop.tasks.{name}", "launch")
        for name in ("_reserve", "charge_order", "location", "notify", "recompute_loyalty", "ship", "tag_items",
                     "update_stock")}
    assert links[("sites:shop.views", "task:shop.tasks.notify", "launch")]["how"] == ["apply_async", "delay"]
    # send_task by the registered name "shop.restock" reaches the task defined as pipelines.restock.
    assert links[("sites:shop.pipelines", "task:shop.pipelines.restock", "launch")]["how"] == ["send_task"]
    fulfil = links[("sites:shop.pipelines", "task:shop.pipelines.reserve_line", "launch")]
    assert fulfil["via"] == ["chord", "group"]
    canvas = {key for key, edge in links.items() if edge["kind"] != "launch" and edge["kind"] != "beat"}
    assert canvas == {
        ("task:shop.pipelines.reserve_line", "task:shop.pipelines._sum_reserved", "chord"),
        ("task:shop.pipelines.reserve_line", "task:shop.pipelines._audit", "chord"),
        ("task:shop.pipelines._sum_reserved", "task:shop.pipelines.bill", "chain"),
        ("task:shop.pipelines.bill", "task:shop.pipelines._email_receipt", "chain"),
        ("task:shop.pipelines._email_receipt", "task:shop.pipelines._report_failure", "link_error"),
        ("task:shop.pipelines.refresh_stock", "task:shop.pipelines.restock", "replace"),
        ("task:shop.tasks._reserve", "task:shop.tasks._invoice", "chain"),
    }
    # The findings of check on the edges: CB201 (private task launched), CB203 (nested chain), CB401.
    assert codes(links[("sites:shop.views", "task:shop.tasks._reserve", "launch")]) == ["CB201"]
    assert codes(links[("task:shop.tasks.checkout", "task:shop.tasks._reserve", "launch")]) == ["CB203"]
    assert codes(links[("beat:shop.celery_app", "task:shop.tasks.refresh_prices", "beat")]) == ["CB401"]
    assert codes(links[("beat:shop.celery_app", "task:shop.tasks.nightly_report", "beat")]) == []
    tasks = nodes(data)
    assert tasks["task:shop.tasks.nightly_report"]["periodic"] == [
        {"entry": "nightly-report", "expires": True, "line": 15, "path": "shop/celery_app.py",
         "schedule": "24 * 60 * 60"}]
    assert tasks["task:shop.tasks.checkout"]["app"] == "shop"
    assert tasks["task:shop.tasks._reserve"]["private"] is True
    assert tasks["task:shop.pipelines.restock"]["name"] == "shop.restock"
    assert tasks["sites:shop.views"]["category"] == "view"


def test_newsroom_shared_tasks_and_settings_beat() -> None:
    data = data_of("newsroom")
    links = edges(data)
    assert codes(links[("task:articles.tasks.stats", "task:articles.tasks.count_words", "launch")]) == ["CB203"]
    assert ("task:articles.tasks.count_words", "task:articles.tasks.total", "chord") in links
    assert codes(links[("beat:newsroom.settings", "task:articles.tasks.purge_drafts", "beat")]) == ["CB401"]
    tasks = nodes(data)
    assert {n["app"] for n in tasks.values() if n["kind"] == "task"} == {"shared_task"}
    assert codes(tasks["task:articles.tasks.total"]) == ["CB202"]
    assert codes(tasks["task:articles.tasks.reindex"]) == ["CB103"]  # reported at its decorator


def test_twoapps_filter_by_app() -> None:
    every = nodes(data_of("twoapps"))
    assert {key: n["app"] for key, n in every.items() if n["kind"] == "task"} == {
        "task:legacy.tasks.reweigh": "legacy", "task:shipping.tasks.audit": "shared_task",
        "task:shipping.tasks.label": "shipping", "task:shipping.tasks.relabel": "shipping"}
    dot = graph_of("twoapps")  # several apps: a cluster per app around its modules' clusters
    assert 'label="app legacy"' in dot and 'label="app shipping"' in dot
    legacy = data_of("twoapps", "--app", "legacy")
    assert set(nodes(legacy)) == {"task:legacy.tasks.reweigh", "sites:shipping.views"}
    assert set(edges(legacy)) == {("sites:shipping.views", "task:legacy.tasks.reweigh", "launch")}


def test_focus_and_depth() -> None:
    near = data_of("shop", "--focus", "checkout", "--depth", "1")
    assert set(nodes(near)) == {"task:shop.tasks.checkout", "task:shop.tasks._reserve", "task:shop.tasks.notify"}
    wider = data_of("shop", "--focus", "shop.tasks.checkout")  # default depth 2
    assert {"sites:shop.views", "task:shop.tasks._invoice"} <= set(nodes(wider))


def test_focus_on_nothing_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(FIXTURES / "shop")
    assert main(["graph", ".", "--focus", "no_such_task"]) == 2
    assert "--focus 'no_such_task' names no task" in capsys.readouterr().err


def test_json_is_deterministic_and_versioned() -> None:
    data = data_of("shop")
    assert data["version"] == 1
    assert graph_of("shop", "--format", "json") == json.dumps(data, indent=2, sort_keys=True) + "\n"
    graph_of.cache_clear()
    assert json.loads(graph_of("shop", "--format", "json")) == data


def test_routes_names_links_and_periodic_calls(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/__init__.py", "")
    write(project, "proj/celery.py", """
        from celery import Celery
        from proj.tasks import cleanup, resize

        app = Celery("proj", task_routes={"proj.tasks.resize": {"queue": "images"}, "proj.tasks.*": "default"})
        app.add_periodic_task(60.0, cleanup.s(), name="every minute")
        app.add_periodic_task(30.0, resize)
    """)
    write(project, "proj/tasks.py", """
        from celery import chain, shared_task

        @shared_task(queue="mail")
        def send(to): ...

        @shared_task
        def resize(path): ...

        @shared_task
        def cleanup(): ...

        @shared_task
        def _on_error(request, exc, tb): ...

        def upload(app, path):
            resize.apply_async((path,), link=send.s("ops"), link_error=_on_error.s())
            app.send_task("billing.charge", args=[1], queue="billing")
            app.signature("proj.tasks.cleanup").delay()

        def later(app):
            pipeline = chain(resize.s("p"), cleanup.si())
            pipeline.delay()
            first = resize.s("q")
            first.link(send.s())  # a link added on its own line
            app.tasks["proj.tasks.send"].delay("x")

        def view(request):
            request.task(send).delay("y")  # an accessor that returns the task (Pyramid integrations)
    """)
    assert main(["graph", "proj", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    tasks = nodes(data)
    assert {key: n["queue"] for key, n in tasks.items() if n["kind"] == "task"} == {
        "task:proj.tasks.send": "mail", "task:proj.tasks.resize": "images", "task:proj.tasks.cleanup": "default",
        "task:proj.tasks._on_error": "default"}
    assert tasks["name:billing.charge"]["kind"] == "unknown"
    assert edges(data)[("sites:proj.tasks", "name:billing.charge", "launch")]["queues"] == ["billing"]
    assert set(edges(data)) == {
        ("sites:proj.tasks", "task:proj.tasks.resize", "launch"),
        ("sites:proj.tasks", "name:billing.charge", "launch"),
        ("sites:proj.tasks", "task:proj.tasks.cleanup", "launch"),
        ("sites:proj.tasks", "task:proj.tasks.send", "launch"),
        ("task:proj.tasks.resize", "task:proj.tasks.cleanup", "chain"),
        ("task:proj.tasks.resize", "task:proj.tasks.send", "link"),
        ("task:proj.tasks.resize", "task:proj.tasks._on_error", "link_error"),
        ("beat:proj.celery", "task:proj.tasks.cleanup", "beat"),
        ("beat:proj.celery", "task:proj.tasks.resize", "beat"),
    }
    launched = edges(data)[("sites:proj.tasks", "task:proj.tasks.send", "launch")]
    assert [site["function"] for site in launched["sites"]] == ["later", "view"]  # type: ignore[union-attr]
    assert tasks["task:proj.tasks.cleanup"]["periodic"][0]["entry"] == "every minute"  # type: ignore[index]
    link = edges(data)[("task:proj.tasks.resize", "task:proj.tasks.send", "link")]
    assert [site["line"] for site in link["sites"]] == [16, 24]  # type: ignore[union-attr]
    assert main(["graph", "proj", "--format", "json", "--queue", "images"]) == 0
    assert set(nodes(json.loads(capsys.readouterr().out))) == {"task:proj.tasks.resize", "sites:proj.tasks",
                                                               "beat:proj.celery"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.tags: list[str] = []
        self.data_script = ""
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        self.references += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action")]
        self._in_data = tag == "script" and values.get("id") == "graph-data"

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data_script += data

    def handle_endtag(self, tag: str) -> None:
        self._in_data = False


@pytest.mark.parametrize("graphviz", [False, True], ids=["own-layout", "graphviz"])
def test_html_is_self_contained_and_embeds_the_json(graphviz: bool) -> None:
    from celery_boundary.gate.graph import GraphOptions, build
    from celery_boundary.gate.graph_html import render_html
    from celery_boundary.gate.graph_render import graphviz_available

    if graphviz and not graphviz_available():
        if os.environ.get("CI"):  # .ci/run installs it: a CI run must draw
            pytest.fail("Graphviz (the graphviz package and dot) is not installed")
        pytest.skip("Graphviz (the graphviz package and dot) is not installed")
    here = os.getcwd()
    os.chdir(FIXTURES / "shop")
    try:
        page = render_html(build(GraphOptions(paths=(".",))), use_graphviz=graphviz)
    finally:
        os.chdir(here)
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert "svg" in parser.tags and "input" in parser.tags
    assert not [ref for ref in parser.references if re.match(r"\s*(https?:)?//", ref)]
    assert "<link" not in page and not re.search(r"<script[^>]*\ssrc=", page) and "@import" not in page
    assert json.loads(parser.data_script) == data_of("shop")
    # Every node of the data is drawn under its id (the script finds it by document.getElementById).
    for node in nodes(data_of("shop")):
        assert f'id="{node}"' in page


def test_dot_parses() -> None:
    dot = graph_of("shop")
    want_nodes, want_edges = set(nodes(data_of("shop"))), len(edges(data_of("shop")))
    from celery_boundary.gate.graph_render import graphviz_available

    if graphviz_available():  # Graphviz's own parser, through the binding (json0: the graph as read)
        import graphviz

        read = json.loads(graphviz.Source(dot).pipe(format="json0"))
        drawn = {obj["id"] for obj in read["objects"] if "id" in obj and "nodes" not in obj}
        assert want_nodes <= drawn and len(read["edges"]) == want_edges
        return
    try:
        import pydot
    except ImportError:
        pydot = None
    if pydot is not None:
        parsed = pydot.graph_from_dot_data(dot)
        assert parsed is not None and len(parsed) == 1
        found = parsed[0]
        drawn = {n.get_name().strip('"') for sub in [found, *found.get_subgraphs()] for n in sub.get_nodes()}
        assert want_nodes <= drawn and len(found.get_edges()) == want_edges
    else:  # a structural check: balanced braces, every edge between declared nodes
        assert dot.startswith("digraph celery_tasks {") and dot.count("{") == dot.count("}")
        declared = set(re.findall(r'^\s*"([^"]+)" \[', dot, re.M))
        assert want_nodes == declared
        pairs = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, re.M)
        assert len(pairs) == want_edges and all(s in declared and t in declared for s, t in pairs)


def test_svg_without_graphviz_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    monkeypatch.chdir(FIXTURES / "shop")
    assert main(["graph", ".", "--format", "svg", "-o", os.devnull]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'celery-boundary[graph]'" in err and "dot program" in err


def test_svg_without_the_dot_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    monkeypatch.chdir(FIXTURES / "shop")
    assert main(["graph", ".", "--format", "png", "-o", str(tmp_path / "g.png")]) == 2
    assert "--format png needs Graphviz" in capsys.readouterr().err


def test_svg_with_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from celery_boundary.gate.graph_render import graphviz_available

    if not graphviz_available() or shutil.which("dot") is None:
        if os.environ.get("CI"):  # .ci/run installs it: a CI run must draw
            pytest.fail("Graphviz (the graphviz package and dot) is not installed")
        pytest.skip("Graphviz (the graphviz package and dot) is not installed")
    target = tmp_path / "shop.svg"
    monkeypatch.chdir(FIXTURES / "shop")
    assert main(["graph", ".", "--format", "svg", "-o", str(target)]) == 0
    assert 'id="task:shop.tasks.checkout"' in target.read_text(encoding="utf-8")


def test_the_docs_picture_is_current() -> None:
    """docs/graph.md's picture: its DOT source is what ``graph`` prints for fixtures/shop today, and
    the SVG drawn from it holds every node and edge (regenerate with the commands docs/graph.md gives)."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "graph"
    dot = (docs / "shop.dot").read_text(encoding="utf-8")
    assert dot == graph_of("shop"), "docs/graph/shop.dot is stale: rerun the commands in docs/graph.md"
    svg = (docs / "shop.svg").read_text(encoding="utf-8")
    drawn = set(re.findall(r'<g id="([^"]+)" class="(?:node|edge)"', svg))
    declared = set(re.findall(r'\bid="([^"]+)"', dot))
    assert {html.unescape(d) for d in drawn} == declared
