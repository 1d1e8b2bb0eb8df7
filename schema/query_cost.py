"""The query cost limit: how many fields an answer can hold once every page and list is full.

Depth, tokens and aliases each stay small in a query that still asks for millions of rows: a
connection inside a connection inside a connection multiplies their pages (100 × 100 × 100), and
aliases repeat the whole. The estimate below is that product, worked out from the query text, the
schema and the request's variables alone, before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension

from dms.counterparties.details import MAX_CONTACT_METHODS

#: What a list that is not a page (top-level binders, a binder's children, a card's contact
#: persons and addresses, a person's contact methods, an event's settlements) is assumed to hold.
#: Most hold a handful. Such a list grows only with what users entered on one object, so the
#: estimate's guard against answers multiplied out of proportion, pages nested in pages, does
#: not rest on it; at 50 (a page) it refused what front-ends ask first: a page of cards with
#: their contact persons and how to reach them (50 cards: 107 600 fields; at 20, 43 100).
DEFAULT_LIST_SIZE = 20
#: A tree's list, named by its object type and field: ("Binder", "children").
Tree = tuple[str, str]
#: Lists the domain bounds, estimated at their bound: (type, field) → most items.
BOUNDED_LISTS: dict[tuple[str, str], int] = {("ContactPerson", "contactMethods"): MAX_CONTACT_METHODS}


@dataclass(frozen=True)
class PageSizes:
    """How many items the estimate gives a page and any other list."""

    default: int  # a page whose `first` is left out or null
    most: int  # the largest `first` a connection accepts; a larger one is refused when it runs
    lists: int  # a list that is not a page


class QueryCostLimiter(SchemaExtension):
    """Refuse an operation whose answer could hold more than `max_cost` fields.

    Every field counts once per object it is asked on. A connection (a field taking `first` or
    `last`) holds as many edges as its `first` (from the query or its variables, else the argument's
    default), capped at the largest page a connection gives, or the default page size when it is
    null; any other list of objects holds `list_size` items. A scalar, or a list of them, counts
    one. A tree's list (a list of its own object's type: a binder's children) nested directly in
    itself counts one item per object of the level above: every binder has one parent, so the
    deeper levels of a tree list the binders of the tree once each, not copies of them. Aliases
    and fragments count every time they appear; of fragments on different object
    types (`... on Event`, `... on Document`) only the dearest counts, since one object is only one
    of them. Introspection (`__schema`, `__type`) counts one: it reads the schema, not the database.

    Run after validation (the query is known to fit the schema) and never cached: the same text
    costs differently with other variables.
    """

    def __init__(self, *, max_cost: int, default_page_size: int, max_page_size: int, list_size: int) -> None:
        self.max_cost = max_cost
        self.pages = PageSizes(default=min(default_page_size, max_page_size), most=max_page_size, lists=list_size)

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors or document is None:
            return
        cost = query_cost(context.schema._schema, document, context.operation_name, context.variables, self.pages)
        if cost > self.max_cost:
            # Raised, not added to the validation errors: Strawberry has looked at those already.
            raise GraphQLError(
                f"the query could return up to {cost:,} fields, more than the limit of {self.max_cost:,}"
                f" (each page counted full: its `first`, else {self.pages.default}; any other list as"
                f" {self.pages.lists} items). Ask for less: a smaller `first`, fewer lists nested inside"
                " lists, fewer aliased copies; fetch the inner pages in later requests",
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": self.max_cost},
            )


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pages: PageSizes,
) -> int:
    """The fields the answer to the named operation (or, unnamed, the dearest one) can hold."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is not None and o.name and o.name.value == operation_name]
    return max(
        (_Estimate(schema, document, operation, variables or {}, pages).root() for operation in chosen or operations),
        default=0,
    )


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        pages: PageSizes,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.pages = pages
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        # A variable left out takes the default the operation declares for it, if any.
        self.variables: dict[str, Any] = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        self.variables.update(variables)
        # A fragment costs the same wherever it is spread (its own type condition decides its
        # fields), given the page and the tree it sits in: one walk per fragment, page and tree,
        # so the work stays linear in the query's size however often a fragment is spread.
        self.memo: dict[tuple[str, int | None, Tree | None], int] = {}

    def root(self) -> int:
        root_type = self.schema.get_root_type(self.operation.operation)
        return self.selections(self.operation.selection_set, root_type, None, None, frozenset()) if root_type else 0

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        page: int | None,
        tree: Tree | None,
        visiting: frozenset[str],
    ) -> int:
        """The cost of a selection on one object of `parent`; `page` is set inside a connection,
        `tree` on the items of a tree's list (the list's type and field)."""
        shared = 0
        # One object has one concrete type: of fragments narrowed to different object types, only
        # the dearest applies. Fragments on an interface or a union may overlap, so they add up.
        by_type: dict[str, int] = {}
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                shared += self.field(selection, parent, page, tree, visiting)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_type = self.schema.get_type(condition.name.value) if condition else parent
                cost = self.selections(selection.selection_set, inner_type or parent, page, tree, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                inner_type = self.schema.get_type(fragment.type_condition.name.value)
                cost = self.spread(fragment, inner_type or parent, page, tree, visiting)
            else:
                continue
            if isinstance(inner_type, GraphQLObjectType) and inner_type is not parent:
                by_type[inner_type.name] = by_type.get(inner_type.name, 0) + cost
            else:
                shared += cost
        return shared + max(by_type.values(), default=0)

    def spread(
        self,
        fragment: FragmentDefinitionNode,
        on: GraphQLNamedType,
        page: int | None,
        tree: Tree | None,
        visiting: frozenset[str],
    ) -> int:
        name = fragment.name.value
        if name in visiting:
            return 0  # a cycle: validation refuses it already
        key = (name, page, tree)
        if key not in self.memo:
            self.memo[key] = self.selections(fragment.selection_set, on, page, tree, visiting | {name})
        return self.memo[key]

    def field(
        self, node: FieldNode, parent: GraphQLNamedType, page: int | None, tree: Tree | None, visiting: frozenset[str]
    ) -> int:
        name = node.name.value
        fields = parent.fields if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) else {}
        definition = fields.get(name)
        # `__typename`, and introspection, which reads the schema rather than the database.
        if name.startswith("__") or definition is None:
            return 1
        here: Tree = (parent.name, name)
        # A deeper level of a tree lists the children of the level above, each binder once.
        listed = 1 if here == tree else BOUNDED_LISTS.get(here, self.pages.lists)
        items, size, output = 1, page if page is not None else listed, definition.type
        lists = 0
        while isinstance(output, (GraphQLNonNull, GraphQLList)):
            if isinstance(output, GraphQLList):
                items, size, lists = items * size, listed, lists + 1
            output = output.of_type
        if is_leaf_type(output):
            return 1  # a scalar, or a list of them, is read with its object
        paged = {"first", "last"} & definition.args.keys()
        inner_page = self.page_size(node, definition.args) if paged else None
        # Only a plain list of its own object's type is a tree's; anything between (a page, a
        # link to one object) may meet the same binder again, so the rule stops there.
        inner_tree = here if lists == 1 and not paged and output is parent else None
        return items * (1 + self.selections(node.selection_set, output, inner_page, inner_tree, visiting))

    def page_size(self, node: FieldNode, args: Mapping[str, Any]) -> int:
        """The edges a connection can hold: its `first` (or `last`) as the resolver will see it."""
        arg = "first" if "first" in args else "last"
        given = next((a.value for a in node.arguments or () if a.name.value == arg), None)
        if given is None:
            value = args[arg].default_value
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value, args[arg].default_value)
        else:
            value = value_from_ast_untyped(given)
        if value is None or value is Undefined:
            return self.pages.default
        if not isinstance(value, int) or isinstance(value, bool):
            return self.pages.most  # not an Int: execution refuses it; estimate the worst
        return max(0, min(value, self.pages.most))
