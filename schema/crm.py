"""The CRM side of the schema: the counterparty card, its queries and mutations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from dms.counterparties.models import Counterparty as CounterpartyModel
from resolvers import counterparties as counterparty_resolvers
from resolvers.ids import encode_id
from schema.errors import UserError
from schema.relay import Connection, Node

if TYPE_CHECKING:
    from schema.types import Document


@strawberry.type
class Counterparty(Node):
    _model: strawberry.Private[CounterpartyModel]

    @classmethod
    def of(cls, model: CounterpartyModel) -> Counterparty:
        return cls(id=strawberry.ID(encode_id("Counterparty", model.id)), _model=model)

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def short_name(self) -> str | None:
        return self._model.short_name

    @strawberry.field(description="Ten digits, without dashes.")
    def nip(self) -> str | None:
        return self._model.nip

    @strawberry.field
    async def documents(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Document, strawberry.lazy("schema.types")]]:
        from schema.types import Document

        page = await counterparty_resolvers.documents_of(info.context, self._model, first, after)
        return Connection.of(page, Document.of)


@strawberry.input
class CounterpartyFilter:
    text: str | None = None


@strawberry.input
class CreateCounterpartyInput:
    name: str
    nip: str | None = None
    short_name: str | None = None


@strawberry.type
class CounterpartyPayload:
    counterparty: Counterparty | None
    user_errors: list[UserError]


@strawberry.type
class CrmQuery:
    @strawberry.field
    async def counterparties(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CounterpartyFilter | None = None,
    ) -> Connection[Counterparty]:
        page = await counterparty_resolvers.list_counterparties(
            info.context, first, after, filter.text if filter else None
        )
        return Connection.of(page, Counterparty.of)


@strawberry.type
class CrmMutation:
    @strawberry.mutation
    async def create_counterparty(self, info: Info, input: CreateCounterpartyInput) -> CounterpartyPayload:
        outcome = await counterparty_resolvers.create_counterparty(
            info.context, input.name, input.nip, input.short_name
        )
        value = outcome.value
        return CounterpartyPayload(
            counterparty=Counterparty.of(value) if value else None, user_errors=UserError.all(outcome.errors)
        )


def wrap_crm_node(model: Any) -> Node | None:
    """The GraphQL type of a CRM model `node(id:)` found, or None."""
    if isinstance(model, CounterpartyModel):
        return Counterparty.of(model)
    return None


CRM_TYPES: list[Any] = [Counterparty]
