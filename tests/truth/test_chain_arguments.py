"""What the plugin's .s(...) binding and the late-link check rest on, measured on Celery itself:
a later link of a chain gets the parent's result *before* its partial arguments, and a signature
sent on its own gets only its partial arguments (Celery 5.7, ``Signature._merge`` / ``clone``)."""

from __future__ import annotations

from celery import Celery, chain


def test_a_later_link_gets_the_parent_result_first() -> None:
    app = Celery("truth_chain", set_as_current=False)

    @app.task(name="truth_chain.label")  # one name per test: celery 5.7 warns of a name given twice
    def label(text: str, size: int) -> str:
        return text * size

    link = label.s(2)
    # What a chain does with the previous result when it runs the next link.
    assert link.clone(args=("ab",)).args == ("ab", 2)
    # Sent on its own, nothing comes first: 2 would be "text".
    assert link.args == (2,)
    assert label.s("ab", 2).clone(args=()).args == ("ab", 2)


def test_an_immutable_signature_ignores_the_parent_result() -> None:
    app = Celery("truth_chain_si", set_as_current=False)

    @app.task(name="truth_chain_si.label")
    def label(text: str, size: int) -> str:
        return text * size

    assert label.si("ab", 2).clone(args=("parent",)).args == ("ab", 2)
    steps = chain(label.s("ab", 1), label.s(2))
    assert [step.args for step in steps.tasks] == [("ab", 1), (2,)]
