from __future__ import annotations

import pytest

from search.sgjp import base_forms


@pytest.mark.parametrize(
    ("word", "names"),
    [
        ("Tomasza", {"tomasz"}),
        ("tomasza", {"tomasz"}),  # typed in lower case, and nothing else is written so
        ("TOMASZA", {"tomasz"}),
        ("Pawłowi", {"paweł"}),
        ("Marii", {"maria"}),
        ("Ewy", {"ewa"}),
        ("Grześka", {"grzesiek"}),
        ("Marka", {"marek"}),
    ],
)
def test_a_form_of_a_first_name_gives_the_name(word: str, names: set[str]) -> None:
    assert base_forms(word) == names


@pytest.mark.parametrize(
    ("word", "bases"),
    [
        ("odsetek", {"odsetki"}),  # the genitive of "odsetki" (interest); simplemma has it only as a percentage
        ("odsetkami", {"odsetki"}),
        ("finansów", {"finanse"}),
    ],
)
def test_a_form_of_a_plural_only_noun_gives_the_noun(word: str, bases: set[str]) -> None:
    assert base_forms(word) == bases


@pytest.mark.parametrize(
    "word", ["marka", "umowa", "faktury", "Kowalskiego", "Warszawie", "Marki", "Zaprosiłbym", "Tomaszże", ""]
)
def test_other_words_give_nothing(word: str) -> None:
    # "marka" in lower case is a brand; surnames and places ("Marki", a town used only in the
    # plural) join their forms without help, and must not join a first name's.
    assert base_forms(word) == frozenset()
