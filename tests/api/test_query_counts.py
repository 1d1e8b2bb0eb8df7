"""SQL statement counts: a page of documents, a tree of binders, a list of cards or cases cost the
same few statements whatever their size (DataLoaders); a download, five."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import event

import resolvers.context as context
from tests.api.helpers import check_in, create_binder, create_document, me_id, ref_mutation, set_binder_access

LISTING = """
{ documents(first: 50) { edges { node {
    title currentVersion { number size } lock { holder { username } } counterparty { name }
} } } }"""


@contextmanager
def counting(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def statements_for_page(client, services, documents: int, query: str = LISTING) -> int:
    binder = await create_binder(client, f"Binder {documents}")
    counterparty = await client.gql(
        'mutation { createCounterparty(input: {name: "ACME Sp. z o.o."}) { counterparty { id } } }'
    )
    cp_id = counterparty.payload("createCounterparty")["counterparty"]["id"]
    for index in range(documents):
        doc = await create_document(
            client, binder["id"], f"Doc {index}", f"body {index}".encode(), counterpartyId=cp_id
        )
        if index % 2:
            await client.gql(ref_mutation("checkOutDocument"), input={"documentId": doc["id"]})
    with counting(services.db.engine) as statements:
        result = await client.gql(query)
    assert len(result.data["documents"]["edges"]) == documents
    return len(statements)


async def test_a_page_of_documents_costs_a_constant_number_of_statements(db, http, services):
    from tests.conftest import logged_in, make_user

    await make_user(db, "small")
    await make_user(db, "large")
    small = await statements_for_page(await logged_in(http, "small"), services, 3)
    large = await statements_for_page(await logged_in(http, "large"), services, 30)
    assert small == large
    assert large <= 8


WITH_LISTS = """{ documents(first: 50) { edges { node {
    title permissions { access } versions(first: 3) { totalCount edges { node { number } } }
    history(first: 2) { totalCount pageInfo { hasNextPage } edges { node { action details } } }
    downloads(first: 2) { totalCount }
} } } }"""


async def test_each_documents_first_versions_history_and_downloads_cost_the_same_for_any_page(db, http, services):
    from tests.conftest import logged_in, make_user

    await make_user(db, "small")
    await make_user(db, "large")
    small = await statements_for_page(await logged_in(http, "small"), services, 3, WITH_LISTS)
    large = await statements_for_page(await logged_in(http, "large"), services, 30, WITH_LISTS)
    assert small == large
    # The page, the counterparty, locks, levels; two per list (its rows, their totals).
    assert large <= 12


async def test_a_first_page_of_a_documents_list_is_the_page_asked_for_it_alone(alice):
    binder = await create_binder(alice, "Umowy")
    for index in range(3):
        document = await create_document(alice, binder["id"], f"Umowa {index}", b"v1")
        for minor in range(index):
            await check_in(alice, document["id"], f"v1.{minor + 1}".encode())
    lists = "{ documents(first: 10) { edges { node { title versions(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } } } } }"
    together = (await alice.gql(lists)).data["documents"]["edges"]
    assert len(together) == 3
    for edge in together:
        versions = edge["node"]["versions"]
        count = int(edge["node"]["title"].split()[-1]) + 1
        assert versions["totalCount"] == count
        assert [e["node"]["number"] for e in versions["edges"]] == [f"1.{m}" for m in range(count - 1, -1, -1)][:2]
        assert versions["pageInfo"]["hasNextPage"] == (count > 2)
        if count > 2:
            more = await alice.gql(
                "query($c: String) { documents(first: 10) { edges { node { title versions(first: 2, after: $c) { edges { node { number } } } } } } }",
                c=versions["pageInfo"]["endCursor"],
            )
            (same,) = [e for e in more.data["documents"]["edges"] if e["node"]["title"] == edge["node"]["title"]]
            assert [e["node"]["number"] for e in same["node"]["versions"]["edges"]] == ["1.0"]


async def test_a_non_admin_listing_filters_in_sql_at_the_same_cost(alice, bob, services):
    binder = await create_binder(alice, "Wspólny")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    for index in range(12):
        await create_document(alice, binder["id"], f"Doc {index}", b"x")
    hidden = await create_binder(alice, "Ukryty")
    for index in range(12):
        await create_document(alice, hidden["id"], f"Secret {index}", b"x")
    with counting(services.db.engine) as statements:
        result = await bob.gql("{ documents(first: 50) { totalCount edges { node { title } } } }")
    assert result.data["documents"]["totalCount"] == 12
    assert len(statements) <= 3


async def test_a_download_costs_two_reads_and_the_three_rows_that_record_it(alice, http, services):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc umowy")

    with counting(services.db.engine) as statements:
        response = await http.get(document["currentVersion"]["downloadUrl"])

    assert response.content == b"tresc umowy"
    # The user the link was issued to; the version with the user's access to its document;
    # then the download history, the document's history and the audit log.
    reads = [statement for statement in statements if statement.split()[0].upper() in ("SELECT", "WITH")]
    inserted = sorted(statement.split()[2] for statement in statements if statement.split()[0].upper() == "INSERT")
    assert (len(statements), len(reads)) == (5, 2), statements
    assert inserted == ["audit_log", "document_history", "downloads"]


async def test_one_request_holds_a_few_database_sessions_at_once_however_wide_its_page(alice, monkeypatch):
    for index in range(12):
        binder = await create_binder(alice, f"Segregator {index}")
        await create_document(alice, binder["id"], f"Umowa {index}", b"tresc")
    held, most = 0, 0
    open_unit = context.unit_of_work

    @asynccontextmanager
    async def counted(*args, **kwargs):
        nonlocal held, most
        held += 1
        most = max(most, held)
        try:
            async with open_unit(*args, **kwargs) as uow:
                await asyncio.sleep(0.01)  # hold it a moment, as a slow query would
                yield uow
        finally:
            held -= 1

    newest = (await alice.gql("{ documents(first: 1) { pageInfo { endCursor } } }")).data["documents"]
    monkeypatch.setattr(context, "unit_of_work", counted)
    # Pages after the first are read for each binder on its own (no DataLoader): twelve reads.
    result = await alice.gql(
        "query($c: String) { binders { documents(first: 1, after: $c) { totalCount } } }",
        c=newest["pageInfo"]["endCursor"],
    )
    assert len(result.data["binders"]) == 12
    assert 1 < most <= context.READS_PER_REQUEST


TREE = """{ binders { name documents(first: 5) { totalCount edges { node { title } } }
    children { name documents(first: 5) { totalCount edges { node { title } } } } } }"""

CARDS_AND_CASES = """{
  counterparties(first: 50) { edges { node { name
    documents(first: 3) { totalCount edges { node { title } } }
    events(first: 2) { totalCount pageInfo { hasNextPage } edges { node { note type { name } } } }
    timeline(first: 3) { totalCount edges { node { __typename ... on Document { title } } } }
    cases(first: 3) { totalCount edges { node { title } } }
    tasks(first: 3) { totalCount edges { node { title dueOn } } }
  } } }
  cases(first: 50) { edges { node { title
    documents(first: 3) { totalCount edges { node { title } } }
    events(first: 2) { totalCount edges { node { note } } }
    tasks(first: 3) { totalCount edges { node { title } } }
  } } }
}"""


async def filled_tree(client, services, top_binders: int, query: str) -> tuple[int, dict]:
    """`top_binders` binders, each with two sub-binders and a card with a case, a document in each."""
    for index in range(top_binders):
        top = await create_binder(client, f"Dział {index}")
        card = (
            await client.gql(
                "mutation($n: String!) { createCounterparty(input: {name: $n}) { counterparty { id } } }",
                n=f"Kontrahent {client.username} {index}",
            )
        ).payload("createCounterparty")["counterparty"]
        case = (
            await client.gql(
                "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }",
                i={"counterpartyId": card["id"], "title": "Reklamacja"},
            )
        ).payload("createCase")["case"]
        await create_document(client, top["id"], f"Pismo {index}", b"x", counterpartyId=card["id"], caseId=case["id"])
        for due in ("2027-01-20", "2027-01-10"):
            await client.gql(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
                i={"title": f"Oddzwonić {due}", "dueOn": due, "counterpartyId": card["id"], "caseId": case["id"]},
            )
        for sub in range(2):
            child = await create_binder(client, f"Teczka {sub}", top["id"])
            await create_document(client, child["id"], f"Notatka {index}.{sub}", b"y")
    with counting(services.db.engine) as statements:
        result = await client.gql(query)
    return len(statements), result.data


async def test_a_binder_tree_with_its_documents_costs_the_same_statements_for_any_width(db, http, services):
    from tests.conftest import logged_in, make_user

    await make_user(db, "small")
    await make_user(db, "large")
    small, _ = await filled_tree(await logged_in(http, "small"), services, 2, TREE)
    large, tree = await filled_tree(await logged_in(http, "large"), services, 8, TREE)
    assert len(tree["binders"]) == 8
    first = tree["binders"][0]
    assert first["documents"] == {"totalCount": 1, "edges": [{"node": {"title": "Pismo 0"}}]}
    assert [child["name"] for child in first["children"]] == ["Teczka 0", "Teczka 1"]
    assert first["children"][1]["documents"]["edges"] == [{"node": {"title": "Notatka 0.1"}}]
    assert small == large
    # The top binders and their levels; their children; each level's documents: page and totals;
    # the children's levels.
    assert large <= 9


async def test_lists_of_cards_and_cases_with_their_documents_cost_the_same_statements_for_any_length(
    db, http, services
):
    from tests.conftest import logged_in, make_user

    await make_user(db, "small")
    await make_user(db, "large")
    small, _ = await filled_tree(await logged_in(http, "small"), services, 2, CARDS_AND_CASES)
    large, lists = await filled_tree(await logged_in(http, "large"), services, 8, CARDS_AND_CASES)
    cards = [edge["node"] for edge in lists["counterparties"]["edges"] if "large" in edge["node"]["name"]]
    assert len(cards) == 8 and all(card["documents"]["totalCount"] == 1 for card in cards)
    # Each card's one event: the document's arrival, recorded by itself.
    assert all(card["events"]["totalCount"] == 1 for card in cards)
    assert all(card["timeline"]["totalCount"] == 2 for card in cards)
    assert all(card["cases"]["edges"] == [{"node": {"title": "Reklamacja"}}] for card in cards)
    due_first = [{"node": {"title": f"Oddzwonić {due}", "dueOn": due}} for due in ("2027-01-10", "2027-01-20")]
    assert all(card["tasks"]["edges"] == due_first for card in cards)
    assert all(edge["node"]["tasks"]["totalCount"] == 2 for edge in lists["cases"]["edges"][:8])
    assert {edge["node"]["__typename"] for card in cards for edge in card["timeline"]["edges"]} == {"Event", "Document"}
    # The other user's cards are open to all, but not the documents on them, nor the events about those.
    others = [edge["node"] for edge in lists["counterparties"]["edges"] if "small" in edge["node"]["name"]]
    assert len(others) == 2
    assert all(
        card["documents"]["totalCount"] == card["events"]["totalCount"] == card["timeline"]["totalCount"] == 0
        for card in others
    )
    assert all(edge["node"]["documents"]["totalCount"] == 1 for edge in lists["cases"]["edges"][:8])
    assert small == large
    # Each list's page; per kind of list (documents, events, timeline entries, cases, tasks, of cards
    # or of cases): its pages and their totals; the event types; the timelines' events and documents.
    assert large <= 24


async def test_a_card_opened_again_reuses_the_pooled_connections(admin, alice, services):
    from tests.api.test_crm_query_counts import CARD, full_card

    card = await full_card(admin, alice, documents=3, events=3)
    opened: list[object] = []

    def connected(*_args: object) -> None:
        opened.append(True)

    for _ in range(2):
        await alice.gql(CARD, id=card)
    event.listen(services.db.engine.sync_engine.pool, "connect", connected)
    try:
        for _ in range(5):
            assert (await alice.gql(CARD, id=card)).data["counterparty"]["id"] == card
    finally:
        event.remove(services.db.engine.sync_engine.pool, "connect", connected)
    # Its dozen sessions at once fit the pool: at most a late one is added (beyond the pool, every
    # request opened and closed about five).
    assert len(opened) <= 1
