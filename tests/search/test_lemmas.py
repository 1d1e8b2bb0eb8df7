from __future__ import annotations

import logging
from pathlib import Path

import pytest

from search import lemmas


@pytest.mark.parametrize(
    ("form", "base"),
    [("rachunku", "rachunek"), ("spółek", "spółka"), ("mieście", "miasto"), ("klienci", "klient"), ("umów", "umowa")],
)
def test_a_polish_form_has_its_base_form(form: str, base: str) -> None:
    assert base in lemmas.polish_lemmas(form)


@pytest.mark.parametrize(
    ("typed", "base"),
    [("kontrahentow", "kontrahent"), ("miescie", "miasto"), ("spolek", "spółka"), ("zazolc", "zażółcić")],
)
def test_a_form_typed_without_polish_letters_has_the_base_form_of_the_word_it_stands_for(typed: str, base: str) -> None:
    assert base in lemmas.polish_lemmas(typed)


def test_a_form_typed_without_polish_letters_stands_for_every_word_it_could_be() -> None:
    assert {"sad", "sąd"} <= lemmas.polish_lemmas("sad")


@pytest.mark.parametrize(
    ("form", "base"), [("paid", "pay"), ("sent", "send"), ("children", "child"), ("criteria", "criterion")]
)
def test_an_english_form_has_its_base_form(form: str, base: str) -> None:
    assert lemmas.english_lemma(form) == base


def test_a_word_the_dictionary_does_not_know_has_none() -> None:
    assert lemmas.polish_lemmas("fv2026xq") == frozenset()
    assert lemmas.english_lemma("fv2026xq") is None


def test_the_dictionaries_are_compiled_once_per_machine_and_kept_in_the_cache() -> None:
    lemmas.load()
    for name in (f"{lemmas.LANGUAGE}.dic", f"{lemmas.LANGUAGE}-unaccented.dic", f"{lemmas.ENGLISH}.dic"):
        assert (lemmas.cache_dir() / name).stat().st_size > 1_000_000


def test_an_unwritable_cache_directory_falls_back_to_the_compressed_dictionary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(lemmas, "cache_dir", lambda: blocked / "lemmas")

    with caplog.at_level(logging.WARNING, logger="kartoteka.search"):
        dictionaries = lemmas._read()

    assert dictionaries.forms.get("rachunku") == "rachunek"
    assert dictionaries.english.get("paid") == "pay"
    assert "cannot be kept" in caplog.text
