"""Assembles the Strawberry schema with its limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.file_uploads import Upload
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.crm import CRM_TYPES, CrmMutation, CrmQuery
from schema.extensions import (
    ErrorPolicy,
    ExpandedSizeLimiter,
    IntegerLiteralLimiter,
    RequireAuthentication,
    RequireOperationName,
    SelectionWidthLimiter,
)
from schema.inputs import UPLOAD_SCALAR
from schema.mutation import DocumentMutation
from schema.query import DocumentQuery
from schema.query_cost import DEFAULT_LIST_SIZE, QueryCostLimiter
from schema.relay import DECIMAL_SCALAR, LONG_SCALAR, Long
from schema.search import SearchQuery
from schema.types import Binder, Document, DocumentVersion, Group, User

# One root per side of the product, merged: each side's module changes for its own reasons.
Query = merge_types("Query", (DocumentQuery, SearchQuery, CrmQuery))
Mutation = merge_types("Mutation", (DocumentMutation, CrmMutation))

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


class QuietSchema(strawberry.Schema):
    """Strawberry logs every error with a traceback; ErrorPolicy logs the unexpected ones instead."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


#: Distinct operation texts whose parse and validation are kept (an LRU: strangers only evict).
QUERY_CACHE_SIZE = 512


def _same_rules_each_request(limiter: AddValidationRules) -> Callable[[], AddValidationRules]:
    """The limiter's rules for every request, the same rule classes each time.

    ValidationCache is keyed by the rule classes too, and strawberry's limiters make new ones
    each time they are built (once per request): with them built anew it never hit, and every
    request validated its operation again (about 2 ms of a 3 ms `{ __typename }`).
    """
    rules = limiter.validation_rules
    return lambda: AddValidationRules(rules)


def build_schema(
    *,
    max_depth: int = 12,
    max_tokens: int = 5000,
    max_aliases: int = 30,
    max_expanded_fields: int = 10_000,
    max_selection_width: int = 100,
    max_cost: int = 100_000,
    default_page_size: int = 50,
    max_page_size: int = 100,
    introspection: bool = True,
    observers: Sequence[Any] = (),
) -> strawberry.Schema:
    """The schema with its limits; `observers` are extensions the composition root adds (metrics)."""
    extensions: list[Any] = [
        # First: the limiters below take exponential time on a fragment bomb that this one refuses.
        lambda: ExpandedSizeLimiter(max_fields=max_expanded_fields),
        lambda: SelectionWidthLimiter(max_fields=max_selection_width),
        IntegerLiteralLimiter,
        _same_rules_each_request(QueryDepthLimiter(max_depth=max_depth)),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        _same_rules_each_request(MaxAliasesLimiter(max_alias_count=max_aliases)),
        # After validation, on every request: its estimate depends on the variables too.
        lambda: QueryCostLimiter(
            max_cost=max_cost,
            default_page_size=default_page_size,
            max_page_size=max_page_size,
            list_size=DEFAULT_LIST_SIZE,
        ),
        RequireOperationName,
        RequireAuthentication,
        ErrorPolicy,
        *observers,
        # Clients send the same few operations over and over: parsing and validating each anew
        # cost about a third of a typical request. Keyed by the query text, the limits included.
        lambda: ParserCache(maxsize=QUERY_CACHE_SIZE),
        lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return QuietSchema(
        query=Query,
        mutation=Mutation,
        types=[User, Group, Binder, Document, DocumentVersion, *CRM_TYPES],
        extensions=extensions,
        config=StrawberryConfig(
            auto_camel_case=True, scalar_map={Long: LONG_SCALAR, Upload: UPLOAD_SCALAR, Decimal: DECIMAL_SCALAR}
        ),
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
