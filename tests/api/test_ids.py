"""Global ids: opaque to clients, and exactly one for each object."""

from __future__ import annotations

import base64

import pytest

from resolvers.ids import encode_id, parse_id
from tests.api.helpers import create_binder, create_document


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_an_encoded_id_parses_back_padded_or_not() -> None:
    global_id = encode_id("Document", 3)
    assert parse_id(global_id) == ("Document", 3)
    assert parse_id(global_id + "=" * (-len(global_id) % 4)) == ("Document", 3)


@pytest.mark.parametrize(
    "spelling",
    [
        raw_id("Document:\u0663"),  # an Arabic-Indic three
        raw_id("Document:\uff13"),  # a fullwidth three
        raw_id("Document:03"),
        raw_id("Document:+3"),
        raw_id("Document: 3"),
        raw_id("Document:3\n"),
        raw_id("document:3"),
    ],
)
def test_another_spelling_of_an_id_names_nothing(spelling: str) -> None:
    assert parse_id(spelling) is None


def test_base64_with_other_trailing_bits_names_nothing() -> None:
    canonical = encode_id("Document", 3)  # its last character carries bits the decoder ignores
    spellings = [canonical[:-1] + c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"]
    twins = [s for s in spellings if base64.urlsafe_b64decode(s + "==") == b"Document:3"]
    assert len(twins) > 1
    assert [twin for twin in twins if parse_id(twin) is not None] == [canonical]


async def test_an_object_answers_to_its_own_id_only(alice) -> None:
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    pk = parse_id(document["id"])[1]
    other = raw_id(f"Document:{str(pk).translate(str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩'))}")

    found = await alice.gql("query($id: ID!) { node(id: $id) { id } }", id=other)
    assert found.data == {"node": None}
    checked_out = await alice.gql(
        "mutation($id: ID!) { checkOutDocument(input: {documentId: $id}) { document { id } userErrors { code } } }",
        id=other,
    )
    assert checked_out.codes("checkOutDocument") == ["NOT_FOUND"]
    own = await alice.gql("query($id: ID!) { node(id: $id) { id } }", id=document["id"])
    assert own.data == {"node": {"id": document["id"]}}


async def test_an_unknown_parent_binder_is_named_by_the_argument_that_gave_it(alice) -> None:
    query = "query($p: ID) { binders(parentId: $p) { name } }"
    for parent in (encode_id("Binder", 999_999), "not-an-id"):
        result = await alice.gql(query, p=parent)
        [error] = result.body["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", ["parentId"]), parent
