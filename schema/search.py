"""Full-text search in the schema: hits with highlights, facets, cursors."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from dms.search import FoundDocument, SearchPage
from resolvers import crm_search
from resolvers import search as search_resolvers
from resolvers.ids import encode_id
from schema.crm import Counterparty
from schema.crm.work import Event
from schema.relay import Connection, PageInfo
from schema.types import Document


@strawberry.enum
class SearchSort(Enum):
    RELEVANCE = "relevance"
    DATE = "date"


@strawberry.input
class SearchFilter:
    counterparty_id: strawberry.ID | None = None
    binder_id: strawberry.ID | None = strawberry.field(default=None, description="The binder and all below it.")
    document_type: str | None = strawberry.field(
        default=None, description="A document type's code or whole name (any case, Polish letters optional)."
    )
    status: str | None = strawberry.field(default=None, description="A status's code or whole name.")
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None


@strawberry.type
class SearchHit:
    document: Document
    score: float = strawberry.field(
        description="How well it matches, relative to the best match of this search (1.0) among the documents"
        " the viewer may read; 0 when the results are sorted by date."
    )
    highlights: list[str] = strawberry.field(
        description="Snippets of the text with matched words in <mark>; everything else HTML-escaped."
    )


@strawberry.type
class SearchEdge:
    node: SearchHit
    cursor: str


@strawberry.type
class FacetValue:
    value: str
    count: int


@strawberry.type
class CounterpartyFacetValue:
    count: int
    _counterparty_id: strawberry.Private[int]

    @strawberry.field
    def counterparty_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Counterparty", self._counterparty_id))

    @strawberry.field
    async def counterparty(self, info: Info) -> Counterparty | None:
        model = await info.context.loaders.crm.card.load(self._counterparty_id)
        return Counterparty.of(model) if model else None


@strawberry.type
class SearchFacets:
    document_types: list[FacetValue]
    counterparties: list[CounterpartyFacetValue]
    years: list[FacetValue]


@strawberry.type
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int
    facets: SearchFacets

    @classmethod
    def of(cls, page: SearchPage, after: str | None) -> SearchConnection:
        def hit(found: FoundDocument) -> SearchEdge:
            node = SearchHit(document=Document.of(found.document), score=found.score, highlights=list(found.highlights))
            return SearchEdge(node=node, cursor=found.cursor)

        edges = [hit(found) for found in page.hits]
        facets = page.facets
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.end_cursor,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
            ),
            total_count=page.total,
            facets=SearchFacets(
                document_types=[FacetValue(value=v, count=c) for v, c in facets.get("document_type", [])],
                counterparties=[
                    CounterpartyFacetValue(count=c, _counterparty_id=int(v))
                    for v, c in facets.get("counterparty", [])
                    if v.isdigit()
                ],
                years=[FacetValue(value=v, count=c) for v, c in facets.get("year", [])],
            ),
        )


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description='Full text over document content and metadata: words, "phrases", prefix*, AND OR NOT, '
        "field:value (title, content, filename, type, status, counterparty, nip, case, binder, tags, description)."
    )
    async def search(
        self,
        info: Info,
        query: str,
        first: int | None = None,
        after: str | None = None,
        filter: SearchFilter | None = None,
        sort: SearchSort = SearchSort.RELEVANCE,
    ) -> SearchConnection:
        f = filter or SearchFilter()
        page = await search_resolvers.search(
            info.context,
            query,
            first,
            after,
            counterparty_id=f.counterparty_id,
            binder_id=f.binder_id,
            document_type=f.document_type,
            status=f.status,
            date_from=f.date_from,
            date_to=f.date_to,
            sort=sort.value,
        )
        return SearchConnection.of(page, after)

    @strawberry.field(
        description="Counterparty cards by name, short name, tax ids (NIP in any spelling, REGON, VAT number), "
        "contact persons and addresses (past ones too), name matches first; the query language of `search`."
    )
    async def search_counterparties(
        self,
        info: Info,
        query: str,
        first: int | None = None,
        after: str | None = None,
        deleted: Annotated[
            bool, strawberry.argument(description="Find the deleted cards instead of the active.")
        ] = False,
    ) -> Connection[Counterparty]:
        page = await crm_search.search_counterparties(info.context, query, first, after, deleted=deleted)
        return Connection.of(page, Counterparty.of)

    @strawberry.field(
        description="Events by number, the title of the document they record, their free-text fields and note, "
        "among those the viewer may see; the query language of `search`."
    )
    async def search_events(
        self,
        info: Info,
        query: str,
        first: int | None = None,
        after: str | None = None,
        counterparty_id: strawberry.ID | None = None,
    ) -> Connection[Event]:
        page = await crm_search.search_events(info.context, query, first, after, counterparty_id=counterparty_id)
        return Connection.of(page, Event.of)
