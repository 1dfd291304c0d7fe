"""The launch graph's page in a real browser: ``graph --format html`` and the graph inside
``check --format html``, opened from ``file://`` in headless Chromium (Debian's ``chromium``, driven by
playwright). The picture is drawn, the search dims every node it does not match, a click on a node
shows its definition site, launch sites and findings, the page logs no error and asks nothing from the
network. Skipped outside CI when Chromium or playwright is missing; under ``CI`` that fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from celery_boundary.cli import main
from celery_boundary.gate.graph import GraphOptions, build
from celery_boundary.gate.graph_html import render_html
from celery_boundary.gate.graph_render import graphviz_available
from cli_helpers import write

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Frame, Page, Request

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

#: Headless, and none of Chromium's own traffic (first run, sync, component updates, QUIC).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

LOCAL = ("file:", "data:")


def _missing(why: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{why}; .ci/run installs it")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One Chromium for the module, with a fresh profile; a request off the machine is aborted (and
    recorded by ``opened``), so nothing leaves it even when a page asks."""
    chromium = shutil.which("chromium")
    if chromium is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=chromium, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 900})
        context.set_default_timeout(10_000)
        context.route(lambda url: not url.startswith(LOCAL), lambda route: route.abort())
        yield context
        context.close()


@dataclass
class Opened:
    """A page and, since it was opened, every request the browser made and every error logged or thrown
    in the page or its frames."""
    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_quiet(self) -> None:
        assert self.errors == []
        assert [url for url in self.requests if not url.startswith(LOCAL)] == []
        assert self.requests  # the recorder saw the page itself


@pytest.fixture
def opened(browser: BrowserContext) -> Iterator[Callable[[str], Opened]]:
    pages: list[Opened] = []

    def record(request: Request) -> None:
        for one in pages:
            one.requests.append(request.url)

    def open_page(url: str) -> Opened:
        one = Opened(browser.new_page())
        pages.append(one)
        one.page.on("console", lambda message: one.errors.append(message.text) if message.type == "error" else None)
        one.page.on("pageerror", lambda error: one.errors.append(str(error)))
        one.page.goto(url)
        return one

    browser.on("request", record)
    yield open_page
    browser.remove_listener("request", record)
    for one in pages:
        one.page.close()


def graph_page(tmp_path: Path, fixture: str, use_graphviz: bool) -> str:
    """The page of ``fixtures/FIXTURE`` (or of the folder ``fixture`` names), written to a file; its URL."""
    here = os.getcwd()
    os.chdir(FIXTURES / fixture)
    try:
        page = render_html(build(GraphOptions(paths=(".",))), use_graphviz=use_graphviz)
    finally:
        os.chdir(here)
    target = tmp_path / f"{Path(fixture).name}.html"
    target.write_text(page, encoding="utf-8")
    return target.as_uri()


def undimmed(where: Page | Frame) -> set[str]:
    found = where.evaluate("Array.from(document.querySelectorAll('g.node:not(.dim)'), g => g.id)")
    return set(found)


def nodes_of(where: Page | Frame) -> list[str]:
    found = where.evaluate("JSON.parse(document.getElementById('graph-data').textContent).nodes.map(n => n.id)")
    return list(found)


def click_node(where: Page | Frame, node: str) -> str:
    """Click the node's drawing; what the panel then says."""
    where.locator(f'g.node[id="{node}"]').click()
    return where.locator("#details").inner_text()


def test_the_recorder_sees_requests_and_errors_in_frames(opened: Callable[[str], Opened]) -> None:
    page = opened("data:text/html,<p>page</p>")
    page.page.set_content('<img src="http://127.0.0.1:9/x.png">'
                          '<iframe srcdoc="<script>missingFunction()</script>"></iframe>')
    for _ in range(100):  # set_content returns at the load event; the frame's error may arrive after it
        if any("missingFunction" in error for error in page.errors):
            break
        page.page.wait_for_timeout(20)
    assert "http://127.0.0.1:9/x.png" in page.requests  # aborted by the route: nothing left the machine
    assert any("missingFunction" in error for error in page.errors)


@pytest.mark.parametrize("use_graphviz", [False, True], ids=["own-layout", "graphviz"])
def test_graph_page_search_and_node_panel(tmp_path: Path, opened: Callable[[str], Opened], use_graphviz: bool) -> None:
    if use_graphviz and not graphviz_available():
        pytest.skip("Graphviz (the graphviz package and dot) is not installed")
    shown = opened(graph_page(tmp_path, "shop", use_graphviz))
    page = shown.page
    # Drawn: every node of the data has its <g> in the SVG, and the SVG has a size.
    every = set(nodes_of(page))
    assert len(every) == 23 and undimmed(page) == every
    box = page.locator("#picture svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300

    page.locator("#search").press_sequentially("checkout")
    assert undimmed(page) == {"task:shop.tasks.checkout"}
    assert page.locator("g.node.dim").count() == 22
    assert page.locator("#matches button").all_inner_texts() == ["shop.tasks.checkout"]
    page.locator("#matches button").click()
    assert page.locator("#details h2").inner_text() == "checkout"
    page.locator("#search").fill("RESERVE")  # case does not matter; the module's name counts too
    assert undimmed(page) == {"task:shop.tasks._reserve", "task:shop.pipelines._sum_reserved",
                              "task:shop.pipelines.reserve_line"}
    # The exact name comes first, and Enter opens it (not the first match in the order of the ids).
    page.locator("#search").fill("_reserve")
    assert page.locator("#matches button").all_inner_texts() == ["shop.tasks._reserve",
                                                                 "shop.pipelines._sum_reserved"]
    page.locator("#search").press("Enter")
    assert page.locator("#details h2").inner_text() == "_reserve"
    page.locator("#search").fill("")
    assert undimmed(page) == every and page.locator("#matches button").count() == 0

    # A task: where it is defined, who launches it from where, and the findings on those launches.
    details = click_node(page, "task:shop.tasks._reserve")
    assert page.locator("#details h2").inner_text() == "_reserve"
    assert "task shop.tasks._reserve" in details and "defined at shop/tasks.py:41" in details
    assert "app shop, queue celery (default), private" in details
    launched_by = page.locator("#details h3:text('Launched or linked by') + ul > li")
    assert launched_by.count() == 2
    assert "shop/views.py:31 place_order" in launched_by.nth(0).inner_text()
    assert "CB201 private task '_reserve'" in launched_by.nth(0).inner_text()
    assert "shop/tasks.py:52 checkout" in launched_by.nth(1).inner_text()
    assert "CB203 task 'checkout'" in launched_by.nth(1).inner_text()
    assert page.locator("g.node.selected").evaluate_all("gs => gs.map(g => g.id)") == ["task:shop.tasks._reserve"]
    # Its own finding (CB204: the definition holds it) and a beat entry's.
    details = click_node(page, "task:shop.tasks.checkout")
    assert "Findings\nCB204 task 'checkout' blocks on another task's result" in details
    assert "(shop/tasks.py:54)" in details
    details = click_node(page, "task:shop.tasks.refresh_prices")
    assert "refresh-prices: 30.0 (no expiry) at shop/celery_app.py:20" in details and "CB401" in details
    # The launch sites of a module.
    details = click_node(page, "sites:shop.views")
    sites = page.locator("#details h3:text('Launch sites') + ul > li").all_inner_texts()
    assert sites[0] == "place_order line 23" and sites[-1] == "notify_all line 38" and len(sites) == 11
    assert "defined at shop/views.py:23" in details
    # A name in the panel opens that node.
    page.locator("#details a[data-node='task:shop.tasks.charge_order']").click()
    assert page.locator("#details h2").inner_text() == "charge_order"
    assert page.locator("g.node.selected").evaluate_all("gs => gs.map(g => g.id)") == ["task:shop.tasks.charge_order"]
    shown.assert_quiet()


def test_report_graph_search_and_node_panel(tmp_path: Path, opened: Callable[[str], Opened],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "newsroom")
    baseline, report = tmp_path / "baseline.json", tmp_path / "report.html"
    assert main(["check", ".", "--write-baseline", str(baseline), "-q", "--select", "CB103"]) == 0
    assert main(["check", ".", "--format", "html", "-o", str(report), "-q", "--baseline", str(baseline)]) == 1
    shown = opened(report.as_uri())
    page = shown.page
    assert "accepted by the baseline" in page.locator("body > p").first.inner_text()
    frame = page.locator("iframe").element_handle().content_frame()
    assert frame is not None
    every = set(nodes_of(frame))
    assert len(every) == 15 and undimmed(frame) == every

    frame.locator("#search").press_sequentially("recount")
    assert undimmed(frame) == {"task:articles.reviews.recount", "task:articles.reviews.recount_ids"}
    assert frame.locator("#matches button").all_inner_texts() == ["articles.reviews.recount",
                                                                  "articles.reviews.recount_ids"]
    frame.locator("#search").fill("")

    # The findings on the graph are every finding, new (CB301) or accepted by the baseline (CB103).
    details = click_node(frame, "task:articles.tasks.audit")
    assert "defined at articles/tasks.py:49" in details
    assert "CB301 task 'audit' holds business logic" in details and "(articles/tasks.py:49)" in details
    details = click_node(frame, "task:articles.reviews.recount")
    assert "defined at articles/reviews.py:12" in details and "CB103" in details
    details = click_node(frame, "sites:articles.views")
    assert frame.locator("#details h3:text('Launch sites') + ul > li").count() >= 1
    assert "defined at articles/views.py:6" in details
    shown.assert_quiet()


@pytest.mark.parametrize("use_graphviz", [False, True], ids=["own-layout", "graphviz"])
def test_names_that_look_like_markup_leave_the_script_working(tmp_path: Path, opened: Callable[[str], Opened],
                                                              use_graphviz: bool) -> None:
    # Inside <script>, "<!--" then "<script" make the parser skip the next "</script>": the data would
    # swallow the page's own script. The page embeds its JSON with "<", ">" and "&" as \u escapes.
    if use_graphviz and not graphviz_available():
        pytest.skip("Graphviz (the graphviz package and dot) is not installed")
    write(tmp_path / "odd", "odd/__init__.py", "")
    write(tmp_path / "odd", "odd/tasks.py", """
        from celery import Celery

        app = Celery("odd")


        @app.task(name="a<!--<script>&amp;</script>b")
        def odd(x: int) -> None:
            pass


        def view() -> None:
            odd.delay(1)
        """)
    shown = opened(graph_page(tmp_path, str(tmp_path / "odd"), use_graphviz))
    page = shown.page
    page.locator("#search").fill("<!--")
    assert page.locator("#matches button").all_inner_texts() == ["a<!--<script>&amp;</script>b"]
    assert undimmed(page) == {"task:odd.tasks.odd"}
    details = click_node(page, "task:odd.tasks.odd")
    assert "task a<!--<script>&amp;</script>b" in details and "defined at odd/tasks.py:7" in details
    shown.assert_quiet()
