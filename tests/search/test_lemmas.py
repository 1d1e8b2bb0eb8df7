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
    assert lemmas.polish_lemma(form) == base


def test_a_word_the_dictionary_does_not_know_has_none() -> None:
    assert lemmas.polish_lemma("fv2026xq") is None


def test_the_dictionary_is_compiled_once_per_machine_and_kept_in_the_cache() -> None:
    lemmas.load()
    assert (lemmas.cache_dir() / f"{lemmas.LANGUAGE}.dic").stat().st_size > 1_000_000


def test_an_unwritable_cache_directory_falls_back_to_the_compressed_dictionary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(lemmas, "cache_dir", lambda: blocked / "lemmas")

    with caplog.at_level(logging.WARNING, logger="kartoteka.search"):
        dictionary = lemmas._read()

    assert dictionary.get("rachunku") == "rachunek"
    assert "cannot be kept" in caplog.text
    assert not (blocked.parent / "lemmas").exists()
