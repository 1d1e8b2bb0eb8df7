"""The cost estimate itself, worked out from a query's text and the schema alone."""

from __future__ import annotations

from graphql import parse

from schema.query_cost import PageSizes, query_cost
from schema.schema import build_schema

SCHEMA = build_schema()._schema


def estimate(query: str) -> int:
    return query_cost(SCHEMA, parse(query), None, {}, PageSizes(default=50, most=100, lists=50))


def test_a_trees_deeper_levels_count_the_binders_of_the_level_above():
    # 50 top-level binders × (1 + 2 fields + 50 children × (1 + 2 fields + their children)).
    assert estimate("{ binders { id name children { id name } } }") == 50 * (3 + 50 * 3)
    # Grandchildren: one per child (each binder has one parent), so a level adds, not multiplies.
    assert estimate("{ binders { id children { id children { id } } } }") == 50 * (2 + 50 * (2 + 1 * 2))
    assert estimate("{ binders { id children { id ... on Binder { children { id } } } } }") == 50 * (2 + 50 * 4)
    deeper = estimate("{ binders { id children { id children { id children { id children { id } } } } } }")
    assert deeper == 50 * (2 + 50 * (2 + 2 + 2 + 2))


def test_the_tree_rule_stops_where_the_same_binder_can_come_again():
    # Through a link to one binder (each child's parent is the same binder), the parent's
    # children are listed again for every child: counted in full.
    assert estimate("{ binders { children { parent { children { id } } } } }") == 50 * (1 + 50 * (1 + 1 + 50 * 2))
    # Through a page: a hundred documents of one binder list its children a hundred times.
    through_page = estimate(
        "{ binders { children { documents(first: 100) { edges { node { binder { children { id } } } } } } } }"
    )
    assert through_page == 50 * (1 + 50 * (1 + 1 + 100 * (1 + 1 + 1 + 50 * 2)))
