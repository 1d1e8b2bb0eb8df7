"""The fields a directory query may name are the ones its index searches."""

from __future__ import annotations

from search.directory import FIELDS
from search.whoosh_directory import _KINDS


def test_every_field_a_directory_query_may_name_is_one_its_index_searches() -> None:
    for kind, names in FIELDS.items():
        translator = _KINDS[kind].translator
        searched = set(translator.fielded) | ({"nip"} if translator.tax_digits else set())
        assert names == searched, kind
