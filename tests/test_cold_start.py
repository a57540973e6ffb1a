"""No cold start: a process that is to serve loads the classifier's dictionary when the app is built."""
import click
import pytest

import dispatch
import config
from dispatch.tickets import classifier

pytestmark = pytest.mark.pure


@pytest.fixture
def preloads(monkeypatch):
    """Count the calls to classifier.preload instead of loading jieba each time."""
    calls = []
    monkeypatch.setattr(classifier, "preload", lambda: calls.append(1))
    return calls


def test_a_server_loads_the_dictionary_when_its_app_is_built(preloads, monkeypatch):
    monkeypatch.delenv("PRELOAD_CLASSIFIER", raising=False)
    dispatch.create_app(config.DevelopmentConfig())  # gunicorn wsgi:app: no flask command around it
    assert preloads == [1]
    with click.Context(click.Command("run"), info_name="run"):  # flask run
        dispatch.create_app(config.DevelopmentConfig())
    assert preloads == [1, 1]


def test_other_flask_commands_tests_and_the_switch_do_not(preloads, monkeypatch):
    with click.Context(click.Group("cli"), info_name="flask"):  # flask db upgrade, seed-demo, scheduler run...
        dispatch.create_app(config.DevelopmentConfig())
    dispatch.create_app(config.TestingConfig())
    monkeypatch.setenv("PRELOAD_CLASSIFIER", "0")
    dispatch.create_app(config.DevelopmentConfig())
    assert preloads == []


def test_preload_loads_the_dictionary_and_the_seeded_words():
    classifier.preload()
    assert classifier._tokenizer is not None
    assert {"楼道灯", "井盖"} <= classifier._registered_words
    assert classifier.classify("楼道灯坏了", classifier.rules_from_seed()).category_code == "lighting"
