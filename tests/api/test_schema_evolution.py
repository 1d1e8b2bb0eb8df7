"""Clients keep working across releases: a field leaves the schema only after a release that deprecated it.

schema/baseline.graphql is the schema clients may rely on: the last release's (before the first release,
the one frozen when the policy started). Every field, argument, input field and enum value in it must
still exist in the code's schema, unless the baseline already marked it `@deprecated`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from schema.schema import schema_sdl

BASELINE = Path(__file__).parents[2] / "schema" / "baseline.graphql"


def removed_without_deprecation(released: GraphQLSchema, current: GraphQLSchema) -> list[str]:
    """`Type.field`, `Type.field(arg)` and `Enum.VALUE` names that `current` lost although `released` did not deprecate them."""
    lost: list[str] = []
    for name, released_type in released.type_map.items():
        if name.startswith("__"):
            continue
        current_type = current.type_map.get(name)
        if isinstance(released_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            fields = getattr(current_type, "fields", {}) if type(current_type) is type(released_type) else {}
            for field_name, field in released_type.fields.items():
                if field_name not in fields:
                    if not field.deprecation_reason:
                        lost.append(f"{name}.{field_name}")
                    continue
                for arg_name, arg in getattr(field, "args", {}).items():
                    if arg_name not in fields[field_name].args and not arg.deprecation_reason:
                        lost.append(f"{name}.{field_name}({arg_name})")
        elif isinstance(released_type, GraphQLEnumType):
            values = current_type.values if isinstance(current_type, GraphQLEnumType) else {}
            lost += [
                f"{name}.{value}"
                for value, definition in released_type.values.items()
                if value not in values and not definition.deprecation_reason
            ]
    return lost


def test_nothing_the_released_schema_offers_disappears_without_deprecation():
    lost = removed_without_deprecation(build_schema(BASELINE.read_text()), build_schema(schema_sdl()))
    assert lost == [], (
        f"removed from the schema without a deprecation in a release: {lost}. Keep them and mark them"
        ' deprecated (strawberry.field(deprecation_reason="…")); see "Schema evolution" in README.md'
    )


RELEASED = """
type Query {
  document(id: ID!, version: String): Document
  oldSearch(q: String!): [Document!]! @deprecated(reason: "Use search.")
}
type Document { id: ID! title: String! legacyNumber: String @deprecated(reason: "Use number.") }
input DocumentFilter { title: String binderId: ID }
enum Status { DRAFT ARCHIVED OBSOLETE @deprecated(reason: "Use ARCHIVED.") }
type Mutation { archive(filter: DocumentFilter, status: Status): Boolean }
"""


@pytest.mark.parametrize(
    ("current", "lost"),
    [
        # Deprecated things may go; nothing else went.
        (
            RELEASED.replace(' oldSearch(q: String!): [Document!]! @deprecated(reason: "Use search.")', "")
            .replace(' legacyNumber: String @deprecated(reason: "Use number.")', "")
            .replace(' OBSOLETE @deprecated(reason: "Use ARCHIVED.")', ""),
            [],
        ),
        (RELEASED.replace(" title: String!", ""), ["Document.title"]),
        (RELEASED.replace(", version: String", ""), ["Query.document(version)"]),
        (RELEASED.replace(" binderId: ID", ""), ["DocumentFilter.binderId"]),
        (RELEASED.replace(" DRAFT", ""), ["Status.DRAFT"]),
        (
            RELEASED.replace("enum Status", "enum State").replace("status: Status", "status: State"),
            ["Status.DRAFT", "Status.ARCHIVED"],
        ),
    ],
)
def test_the_check_names_what_went_missing(current: str, lost: list[str]):
    assert removed_without_deprecation(build_schema(RELEASED), build_schema(current)) == lost
