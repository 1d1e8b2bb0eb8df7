from __future__ import annotations

import pytest

from search.names import first_names


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
    assert first_names(word) == names


@pytest.mark.parametrize("word", ["marka", "umowa", "Kowalskiego", "Warszawie", "Zaprosiłbym", "Tomaszże", ""])
def test_other_words_give_no_first_name(word: str) -> None:
    # "marka" in lower case is a brand; surnames and places join their forms without help.
    assert first_names(word) == frozenset()
