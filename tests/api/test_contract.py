"""The schema keeps every name, argument and shape that `contract.graphql` fixes."""

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

from schema.schema import build_schema as build_our_schema

CONTRACT = Path(__file__).resolve().parents[2] / "schema" / "contract.graphql"


@pytest.fixture(scope="module")
def schemas() -> tuple[GraphQLSchema, GraphQLSchema]:
    return build_schema(CONTRACT.read_text()), build_our_schema()._schema


def _named_types(schema: GraphQLSchema) -> list[str]:
    return [name for name in schema.type_map if not name.startswith("__")]


def test_every_contract_type_exists_with_its_fields_and_arguments(schemas):
    contract, ours = schemas
    problems = []
    for name in _named_types(contract):
        theirs = contract.type_map[name]
        mine = ours.type_map.get(name)
        if mine is None:
            problems.append(f"missing type {name}")
            continue
        kinds = (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType, GraphQLEnumType)
        if not any(isinstance(mine, kind) and isinstance(theirs, kind) for kind in kinds) and type(mine) is not type(
            theirs
        ):
            problems.append(f"{name} is a {type(mine).__name__}, the contract says {type(theirs).__name__}")
            continue
        if isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in theirs.fields.items():
                own = mine.fields.get(field_name)
                if own is None:
                    problems.append(f"missing field {name}.{field_name}")
                    continue
                if str(own.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {own.type} instead of {field.type}")
                for arg_name, arg in field.args.items():
                    own_arg = own.args.get(arg_name)
                    if own_arg is None:
                        problems.append(f"missing argument {name}.{field_name}({arg_name})")
                    elif str(own_arg.type) != str(arg.type):
                        problems.append(f"{name}.{field_name}({arg_name}): {own_arg.type} instead of {arg.type}")
                extra_required = [
                    a
                    for a, v in own.args.items()
                    if a not in field.args and v.type.__class__.__name__ == "GraphQLNonNull" and v.default_value is None
                ]
                if extra_required:
                    problems.append(f"{name}.{field_name} requires arguments the contract lacks: {extra_required}")
            if isinstance(theirs, GraphQLObjectType):
                for interface in theirs.interfaces:
                    if interface.name not in {i.name for i in mine.interfaces}:
                        problems.append(f"{name} does not implement {interface.name}")
        if isinstance(theirs, GraphQLInputObjectType):
            for field_name, field in theirs.fields.items():
                own = mine.fields.get(field_name)
                if own is None:
                    problems.append(f"missing input field {name}.{field_name}")
                elif str(own.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {own.type} instead of {field.type}")
        if isinstance(theirs, GraphQLEnumType):
            missing = set(theirs.values) - set(mine.values)
            if missing:
                problems.append(f"enum {name} lacks {sorted(missing)}")
    assert problems == []
