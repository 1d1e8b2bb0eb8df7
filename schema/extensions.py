"""Schema-wide policies: who may run what, and which errors clients see."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from dms.db import is_unavailable
from dms.errors import DomainError

log = logging.getLogger("kartoteka.graphql")

# What an anonymous request may ask for: logging in, who it is (nobody: null), and the schema.
ANONYMOUS_FIELDS = frozenset({"login", "me", "__schema", "__type", "__typename"})


class RequireOperationName(SchemaExtension):
    """A document of several operations runs none of them unless the request names one.

    The GraphQL spec asks for this error; Strawberry instead falls back to the first operation,
    so a client that forgot operationName would silently run something it did not choose.
    """

    def on_execute(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)] if document else []
        # Strawberry keeps the name the request gave apart from the one it falls back to.
        provided = getattr(self.execution_context, "_provided_operation_name", None)
        if len(operations) > 1 and provided is None:
            raise GraphQLError(
                "the document has several operations: send operationName to choose one",
                extensions={"code": "VALIDATION"},
            )
        yield


class RequireAuthentication(SchemaExtension):
    """Refuse every operation of an anonymous request except login and introspection."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if getattr(context, "actor", None) is None:
            document = self.execution_context.graphql_document
            for definition in document.definitions if document else ():
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                if self.execution_context.operation_name not in (
                    None,
                    getattr(definition.name, "value", None),
                ):
                    continue
                for selection in definition.selection_set.selections:
                    name = getattr(getattr(selection, "name", None), "value", None)
                    if name not in ANONYMOUS_FIELDS:
                        raise GraphQLError(
                            "authentication required: log in and send Authorization: Bearer <token>",
                            extensions={"code": "UNAUTHENTICATED"},
                        )
        yield


#: Digits an integer literal in a query may have: a 64-bit number has 20 at most.
MAX_INT_LITERAL_DIGITS = 20


class _LongIntegers(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_int_value(self, node: IntValueNode, *_args: object) -> object:
        if len(node.value.lstrip("-")) > MAX_INT_LITERAL_DIGITS:
            self.found = True
            return Visitor.BREAK
        return None


class IntegerLiteralLimiter(SchemaExtension):
    """Refuse an integer literal longer than any number a field takes, before it is converted:
    Python will not convert one of over 4,300 digits, and that failure would look like our fault."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            finder = _LongIntegers()
            visit(document, finder)
            if finder.found:
                raise GraphQLError(
                    f"a number in the query has more than {MAX_INT_LITERAL_DIGITS} digits",
                    extensions={"code": "VALIDATION"},
                )
        yield


class _FieldLimiter(SchemaExtension):
    """Refuse, before any validation rule runs, a query whose `measure` exceeds `max_fields`."""

    message = ""

    def __init__(self, *, max_fields: int) -> None:
        self.max_fields = max_fields

    def measure(self, document: DocumentNode) -> int:
        raise NotImplementedError

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None and self.measure(document) > self.max_fields:
            raise GraphQLError(self.message.format(limit=self.max_fields), extensions={"code": "QUERY_TOO_COMPLEX"})
        yield


class ExpandedSizeLimiter(_FieldLimiter):
    """Refuse a query whose fields, with every fragment spread written out, exceed a limit.

    Twenty fragments that each spread the previous one twice are a few hundred tokens but a million
    fields once expanded, and Strawberry's depth and alias limiters expand them, on the event loop,
    in exponential time. Counted here first with one memo per fragment (linear time).
    """

    message = "the query has more than {limit} fields once its fragments are expanded"

    def measure(self, document: DocumentNode) -> int:
        count = _FieldCount(document, nested=True)
        return sum(
            count(definition.selection_set)
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        )


class SelectionWidthLimiter(_FieldLimiter):
    """Refuse a query that asks one object for more than `max_fields` fields (its fragments'
    fields included).

    Validation compares the fields asked of one object pairwise (GraphQL's "fields can merge"
    rule), on the event loop: 400 copies of `me { username }`, well within the token limit, took
    two seconds, during which no other request was answered. No client needs 100 fields of one
    object, and validating 100 takes milliseconds.
    """

    message = "the query asks one object for more than {limit} fields (fragments included)"

    def measure(self, document: DocumentNode) -> int:
        count = _FieldCount(document, nested=False)

        class Widest(Visitor):
            found = 0

            def enter_selection_set(self, node: SelectionSetNode, *_args: object) -> None:
                self.found = max(self.found, count(node))

        widest = Widest()
        visit(document, widest)
        return widest.found


class _FieldCount:
    """The fields of a selection set with its fragments written out (`nested`: and the fields
    those select in turn), one memo per fragment: linear time."""

    def __init__(self, document: DocumentNode, *, nested: bool) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.nested = nested
        self.memo: dict[str, int] = {}

    def __call__(self, selection_set: SelectionSetNode | None, visiting: frozenset[str] = frozenset()) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += 1 + (self(selection.selection_set, visiting) if self.nested else 0)
            elif isinstance(selection, InlineFragmentNode):
                total += self(selection.selection_set, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                # An unknown or cyclic spread counts nothing: validation reports it.
                if name not in self.memo and name in self.fragments and name not in visiting:
                    self.memo[name] = self(self.fragments[name].selection_set, visiting | {name})
                total += self.memo.get(name, 0)
        return total


#: The refusals of strawberry's QueryDepthLimiter and MaxAliasesLimiter.
_LIMIT_REFUSAL = re.compile(r"exceeds maximum operation depth of \d+$|^\d+ aliases found\. Allowed: \d+$")


class ErrorPolicy(SchemaExtension):
    """Domain refusals keep their message and gain a code; anything unexpected is logged and masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = [self._policy(error, request_id) for error in result.errors]

    @staticmethod
    def _policy(error: GraphQLError, request_id: str | None) -> GraphQLError:
        original = error.original_error
        if original is None and not (error.extensions or {}).get("code") and _LIMIT_REFUSAL.search(error.message):
            # Strawberry's depth and alias limiters say no code; a client tells limits apart by it.
            return GraphQLError(
                error.message, nodes=error.nodes, path=error.path, extensions={"code": "QUERY_TOO_COMPLEX"}
            )
        if original is None or isinstance(original, GraphQLError):
            return error
        if isinstance(original, DomainError):
            extensions = {"code": original.code}
            if original.field:
                extensions["field"] = original.field  # type: ignore[assignment]
            return GraphQLError(original.message, nodes=error.nodes, path=error.path, extensions=extensions)
        if is_unavailable(original):
            log.warning(
                "the database is unavailable",
                extra={"request_id": request_id, "path": error.path, "error": type(original).__name__},
            )
            return GraphQLError(
                "the database is unavailable; try again shortly",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "DATABASE_UNAVAILABLE", "requestId": request_id},
            )
        log.error(
            "unexpected error in a GraphQL operation",
            exc_info=original,
            extra={"request_id": request_id, "path": error.path},
        )
        return GraphQLError(
            "internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
