"""`binder:` searches the binder names a user may read, and only those.

A user who may read a binder but not the one above it sees the binder's path start below the
hidden one; the hidden binder's name must not find, count, facet or exclude anything for her.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import SET_DOCUMENT_PERMISSIONS, create_binder, create_document, me_id, set_binder_access
from tests.conftest import drain

SEARCH = """
query($q: String!) {
  search(query: $q, first: 50) {
    totalCount
    edges { node { highlights document { title binder { path } } } }
    facets { years { value count } counterparties { count } documentTypes { value count } }
  }
}"""

CONTENT = "Umowa sprzedaży udziałów, projekt do uzgodnienia.".encode()


async def search(client: Any, query: str) -> dict[str, Any]:
    return (await client.gql(SEARCH, q=query)).data["search"]


async def titles(client: Any, query: str) -> list[str]:
    return sorted(edge["node"]["document"]["title"] for edge in (await search(client, query))["edges"])


async def nothing_at_all(client: Any, query: str) -> bool:
    found = await search(client, query)
    return (
        found["totalCount"] == 0 and found["edges"] == [] and all(values == [] for values in found["facets"].values())
    )


@pytest.fixture
async def hidden_parent(alice: Any, bob: Any, indexer: Any) -> dict[str, Any]:
    """Alice's "/Przejęcie Kowalpol – tajne/Materiały dla działu prawnego"; bob may read only the child."""
    parent = await create_binder(alice, "Przejęcie Kowalpol – tajne")
    child = await create_binder(alice, "Materiały dla działu prawnego", parent["id"])
    await set_binder_access(alice, child["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    await create_document(alice, child["id"], "Umowa udziałów", CONTENT, filename="umowa.txt")
    await create_document(alice, parent["id"], "Notatka zarządu", CONTENT, filename="notatka.txt")
    await drain(indexer)
    return {"parent": parent, "child": child}


async def test_the_refused_user_sees_the_path_start_below_the_hidden_parent(bob, hidden_parent):
    found = await search(bob, "umowa")
    assert [edge["node"]["document"]["binder"]["path"] for edge in found["edges"]] == ["/Materiały dla działu prawnego"]


HIDDEN_NAME_QUERIES = [
    "binder:tajne",
    "binder:Tajne",
    "binder:przejecie",
    'binder:"Przejęcie"',
    'binder:"Przejęcie Kowalpol"',
    "binder:kowalpol",
    "binder:Kowal*",
    "binder:taj*",
    'binder:"tajne Materiały"',
    "binder:tajne/materialy",
    "binder:(tajne OR kowalpol)",
    "umowa binder:tajne",
    "binder:tajne AND binder:materialy",
    "binder:tajne -notatka",
]


async def test_a_hidden_parents_name_finds_and_counts_nothing(bob, hidden_parent):
    # One setup, many probes: each query is a read, so they cannot disturb one another.
    for query in HIDDEN_NAME_QUERIES:
        assert await nothing_at_all(bob, query), query


async def test_a_hidden_parents_name_excludes_nothing_either(bob, hidden_parent):
    assert await titles(bob, "NOT binder:tajne") == ["Umowa udziałów"]
    assert await titles(bob, "umowa -binder:kowalpol") == ["Umowa udziałów"]
    assert await titles(bob, "binder:tajne OR umowa") == ["Umowa udziałów"]


READABLE_NAME_QUERIES = [
    "binder:materialy",
    "binder:Materiały",
    'binder:"działu prawnego"',
    "binder:dzial",  # inflected forms match, as elsewhere
    "binder:mater*",
    "binder:materialy umowa",
    "binder:(tajne OR prawnego)",
]


async def test_a_readable_childs_name_finds_its_documents(bob, hidden_parent):
    for query in READABLE_NAME_QUERIES:
        found = await search(bob, query)
        assert found["totalCount"] == 1, query
        assert [edge["node"]["document"]["title"] for edge in found["edges"]] == ["Umowa udziałów"], query
        assert found["facets"]["years"][0]["count"] == 1, query


async def test_binder_words_do_not_mark_the_title_or_content(bob, hidden_parent):
    found = await search(bob, "binder:materialy")
    assert all("<mark>" not in snippet for edge in found["edges"] for snippet in edge["node"]["highlights"])


async def test_whoever_reads_the_parent_finds_its_subtree_by_its_name(alice, admin, hidden_parent):
    for query in ("binder:tajne", "binder:przejęcie", 'binder:"Przejecie Kowalpol"'):
        for who in (alice, admin):
            assert await titles(who, query) == ["Notatka zarządu", "Umowa udziałów"], query
    assert await titles(admin, "binder:materialy") == ["Umowa udziałów"]
    assert await titles(admin, 'binder:"tajne Materiały"') == ["Umowa udziałów"]


async def test_a_binder_narrowed_away_in_the_middle_cuts_the_names_above_it(alice, bob, indexer):
    """/Akta/Zarząd/Wnioski: bob reads Akta and Wnioski, Zarząd is narrowed away from him."""
    alice_id, bob_id = await me_id(alice), await me_id(bob)
    top = await create_binder(alice, "Akta")
    middle = await create_binder(alice, "Zarząd", top["id"])
    bottom = await create_binder(alice, "Wnioski", middle["id"])
    await set_binder_access(alice, top["id"], [(alice_id, "MANAGE"), (bob_id, "READ")])
    await set_binder_access(alice, middle["id"], [(alice_id, "MANAGE"), (bob_id, "NONE")])
    await set_binder_access(alice, bottom["id"], [(alice_id, "MANAGE"), (bob_id, "READ")])
    await create_document(alice, top["id"], "Spis akt", CONTENT)
    await create_document(alice, middle["id"], "Uchwała", CONTENT)
    await create_document(alice, bottom["id"], "Wniosek urlopowy", CONTENT)
    await drain(indexer)

    # Bob sees "/Wnioski" for the last one: its place under Akta is Zarząd's secret.
    assert await titles(bob, "binder:akta") == ["Spis akt"]
    assert await nothing_at_all(bob, "binder:zarzad")
    assert await titles(bob, "binder:wnioski") == ["Wniosek urlopowy"]
    assert await titles(bob, "binder:(akta OR wnioski)") == ["Spis akt", "Wniosek urlopowy"]
    assert await titles(bob, "NOT binder:akta") == ["Wniosek urlopowy"]
    assert await titles(alice, "binder:akta") == ["Spis akt", "Uchwała", "Wniosek urlopowy"]
    assert await titles(alice, "binder:zarzad") == ["Uchwała", "Wniosek urlopowy"]


async def test_a_narrowed_document_stays_hidden_whatever_its_binder_is_called(alice, bob, indexer):
    binder = await create_binder(alice, "Kadry")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    secret = await create_document(alice, binder["id"], "Lista płac", CONTENT)
    await create_document(alice, binder["id"], "Regulamin", CONTENT)
    result = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=secret["id"], entries=[{"principalId": await me_id(bob), "access": "NONE"}]
    )
    assert result.payload("setDocumentPermissions")["userErrors"] == []
    await drain(indexer)
    assert await titles(bob, "binder:kadry") == ["Regulamin"]
    assert (await search(bob, "binder:kadry"))["totalCount"] == 1
    assert await titles(alice, "binder:kadry") == ["Lista płac", "Regulamin"]


async def test_binder_words_follow_a_rename_and_a_permission_change_at_once(alice, bob, indexer):
    parent = await create_binder(alice, "Projekty")
    child = await create_binder(alice, "Otwarte", parent["id"])
    await set_binder_access(alice, child["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    await create_document(alice, child["id"], "Plan", CONTENT)
    await drain(indexer)
    assert await nothing_at_all(bob, "binder:projekty")

    await set_binder_access(alice, parent["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    assert await titles(bob, "binder:projekty") == ["Plan"]

    renamed = await alice.gql(
        'mutation($id: ID!) { renameBinder(input: {binderId: $id, name: "Zamknięte"}) { userErrors { code } } }',
        id=child["id"],
    )
    assert renamed.payload("renameBinder")["userErrors"] == []
    assert await titles(bob, "binder:zamkniete") == ["Plan"]
    assert await titles(bob, "binder:otwarte") == []


def test_subtrees_cover_exactly_the_matched_binders() -> None:
    """`binder:` becomes subtrees less cut-off branches; checked against every binder of random trees."""
    import random

    from dms.search import _subtrees

    rng = random.Random(7)
    for _ in range(300):
        parents: dict[int, int | None] = {1: None}
        for binder_id in range(2, rng.randint(2, 30)):
            parents[binder_id] = rng.choice([None, *parents])
        children: dict[int, list[int]] = {}
        for binder_id, parent_id in parents.items():
            if parent_id is not None:
                children.setdefault(parent_id, []).append(binder_id)
        matched = {b for b in parents if rng.random() < 0.4}

        subtrees = _subtrees(matched, parents, children)
        for binder_id in parents:
            above: set[int] = set()
            current: int | None = binder_id
            while current is not None:
                above.add(current)
                current = parents[current]
            inside = any(s.binder_id in above and not above & set(s.excluding) for s in subtrees)
            assert inside == (binder_id in matched), (parents, matched, subtrees, binder_id)
