"""The search query language and its engine-neutral query tree.

Syntax::

    faktura kowalski            implicit AND between terms
    faktura AND umowa           explicit AND (operators are upper-case)
    faktura OR rachunek
    NOT anulowana   -anulowana  negation
    "umowa najmu"               phrase (words in this order, next to each other)
    fakt*                       prefix (at least two letters before the star)
    title:umowa  tags:(pilne OR ważne)  content:"FV/2026/0012"
    (faktura OR rachunek) AND NOT korekta

`parse_query` turns text into a tree of frozen nodes that each engine
translates; it raises `QuerySyntaxError` (with a message fit for the user) and
nothing else, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from search.analysis import (
    GROUP_SPACES,
    MAX_NUMBER_GROUPS,
    date_in_digits,
    date_in_words,
    date_phrases,
    has_word,
    number_group,
    prefix_term,
    query_words,
    term_positions,
)
from search.errors import QuerySyntaxError

#: Fields a query may name; the engine maps each to its own field(s).
FIELDS: frozenset[str] = frozenset(
    {
        "title",
        "content",
        "filename",
        "type",
        "status",
        "counterparty",
        "nip",
        "case",
        "binder",
        "tags",
        "description",
    }
)
MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 64
#: Prefix words (``fakt*``) one query may hold: each reads every word of the index it could be.
MAX_PREFIXES = 8
MAX_DEPTH = 16
MIN_PREFIX = 2


@dataclass(frozen=True)
class Term:
    """A word (or compound such as ``FV/2026/0012``); `field` None means the default fields."""

    field: str | None
    text: str


@dataclass(frozen=True)
class Phrase:
    """Words that must appear next to each other, in order."""

    field: str | None
    words: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    """Words starting with `text` (as written, diacritics folded)."""

    field: str | None
    text: str


@dataclass(frozen=True)
class And:
    children: tuple[QueryNode, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[QueryNode, ...]


@dataclass(frozen=True)
class Not:
    child: QueryNode


@dataclass(frozen=True)
class MatchAll:
    """Every document (the empty query, or ``*``)."""


@dataclass(frozen=True)
class Subtree:
    """A binder and every binder below it, less the subtrees of the binders in `excluding`."""

    binder_id: int
    excluding: tuple[int, ...] = ()


@dataclass(frozen=True)
class InBinders:
    """Documents whose binder lies in any of `subtrees` (none at all when it is empty).

    Never parsed from text: the caller builds it, e.g. to resolve a ``binder:`` clause against
    the binders the asking user may read, whose names are not the index's business.
    """

    subtrees: tuple[Subtree, ...]


QueryNode = Term | Phrase | Prefix | And | Or | Not | MatchAll | InBinders

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<negate>-(?=[A-Za-z_]+:(?!//)|"|\())
  | (?P<field>[A-Za-z_]+):
  | (?P<phrase>"[^"]*"?)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_AMOUNT_END_RE = re.compile(r"(\d{1,4})[,.](\d{1,2})")


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(", ")", "field", "phrase", "word", "AND", "OR", "NOT", "-"
    text: str
    at: int
    # For a field: what follows the colon ("" at the end), to tell `title:umowa` from pasted
    # text such as "Re: Reklamacja", "NIP: 123-456-32-18" or "https://…".
    after: str = ""
    end: int = 0


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind == "space":
            continue
        if kind == "lparen":
            tokens.append(_Tok("(", value, match.start()))
        elif kind == "rparen":
            tokens.append(_Tok(")", value, match.start()))
        elif kind == "negate":
            # "-" before a field, a phrase or a group negates it as it negates a word.
            tokens.append(_Tok("-", "-", match.start()))
        elif kind == "field":
            tokens.append(_Tok("field", match.group("field"), match.start(), text[match.end() : match.end() + 1]))
        elif kind == "phrase":
            if len(value) < 2 or not value.endswith('"'):
                raise QuerySyntaxError(f"A quote opened at position {match.start() + 1} is never closed.")
            tokens.append(_Tok("phrase", value[1:-1], match.start()))
        elif value in _OPERATORS:
            tokens.append(_Tok(value, value, match.start()))
        elif value.startswith("-") and len(value) > 1 and not value[1:].startswith("-"):
            # "-word" negates, like in web search boxes; a lone "-" is noise.
            tokens.append(_Tok("-", "-", match.start()))
            tokens.append(_Tok("word", value[1:], match.start() + 1))
        else:
            tokens.append(_Tok("word", value, match.start(), end=match.end()))
    return _dates_in_words(_numbers_in_groups(tokens, text))


def _any_date(field: str | None, when: str, written: QueryNode) -> QueryNode:
    """A date however a document writes it: `written` (as the user did), the term every date in
    digits is indexed as (which a date the user wrote in digits looks up already), or one of the
    phrases that write it in words."""
    alternatives = [written] if isinstance(written, Term) else [written, Term(field, when)]
    alternatives += [phrase for words in date_phrases(when) if (phrase := Phrase(field, words)) != written]
    return Or(tuple(alternatives))


def _dates_in_words(tokens: list[_Tok]) -> list[_Tok]:
    """Three words that write a date ("3 marca 2026", "March 3, 2026") become one "date" token:
    found so, or as the index knows a date written in digits (03.03.2026, 2026-03-03)."""
    merged: list[_Tok] = []
    at = 0
    while at < len(tokens):
        words = tokens[at : at + 3]
        negated = at > 0 and tokens[at - 1].kind in {"-", "NOT"}
        if (
            not negated
            and len(words) == 3
            and all(token.kind == "word" for token in words)
            and date_in_words(tuple(token.text for token in words)) is not None
        ):
            merged.append(_Tok("date", " ".join(token.text for token in words), words[0].at, end=words[-1].end))
            at += 3
        else:
            merged.append(tokens[at])
            at += 1
    return merged


def _numbers_in_groups(tokens: list[_Tok], text: str) -> list[_Tok]:
    """Words that are the space-separated groups of one number (``123 456 32 18``, ``+48 601 234
    567``) become one "number" token: the index knows such a number glued, whichever way it was
    written (see `search.analysis`)."""
    merged: list[_Tok] = []
    at = 0
    while at < len(tokens):
        token = tokens[at]
        negated = at > 0 and tokens[at - 1].kind in {"-", "NOT"}
        if token.kind != "word" or negated or number_group(token.text, first=True) is None:
            merged.append(token)
            at += 1
            continue
        end = at + 1
        while (
            end < len(tokens)
            and tokens[end].kind == "word"
            and tokens[end].at - tokens[end - 1].end == 1
            and text[tokens[end - 1].end] in GROUP_SPACES
        ):
            if number_group(tokens[end].text, first=False) is None:
                # An amount's last group carries its decimals: 12 345,67.
                end += _AMOUNT_END_RE.fullmatch(tokens[end].text) is not None
                break
            end += 1
        if 2 <= end - at <= MAX_NUMBER_GROUPS:
            words = " ".join(t.text for t in tokens[at:end])
            merged.append(_Tok("number", words, token.at, end=tokens[end - 1].end))
        else:
            merged.extend(tokens[at:end])
        at = end
    return merged


def _starts_operand(tokens: list[_Tok], at: int) -> bool:
    return at < len(tokens) and tokens[at].kind in {"(", "field", "phrase", "word", "number", "date", "NOT", "-"}


class _Parser:
    def __init__(self, tokens: list[_Tok], fields: frozenset[str]) -> None:
        self.tokens = tokens
        self.fields = fields
        self.at = 0
        self.clauses = 0
        self.prefixes = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> QueryNode:
        node = self.or_expr(None)
        extra = self.peek()
        if extra is not None:
            if extra.kind == ")":
                raise QuerySyntaxError(f"A closing parenthesis at position {extra.at + 1} has no opening one.")
            raise QuerySyntaxError(f"Unexpected {extra.text!r} at position {extra.at + 1}.")
        return node if node is not None else MatchAll()

    def or_expr(self, field: str | None) -> QueryNode | None:
        children = [self.and_expr(field)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            if not _starts_operand(self.tokens, self.at):
                raise QuerySyntaxError(f"OR at position {token.at + 1} needs a term after it.")
            if children[-1] is None and len(children) == 1:
                raise QuerySyntaxError(f"OR at position {token.at + 1} needs a term before it.")
            children.append(self.and_expr(field))
        present = [c for c in children if c is not None]
        if not present:
            return None
        return present[0] if len(present) == 1 else Or(tuple(present))

    def and_expr(self, field: str | None) -> QueryNode | None:
        children: list[QueryNode] = []
        seen_operand = False
        while (token := self.peek()) is not None:
            if token.kind == "AND":
                self.take()
                if not seen_operand or not _starts_operand(self.tokens, self.at):
                    raise QuerySyntaxError(f"AND at position {token.at + 1} needs a term on both sides.")
                continue
            if not _starts_operand(self.tokens, self.at):
                break
            seen_operand = True
            node = self.unary(field)
            if node is not None:
                children.append(node)
        if not children:
            return None
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, field: str | None) -> QueryNode | None:
        token = self.peek()
        if token is not None and token.kind in {"NOT", "-"}:
            self.take()
            if not _starts_operand(self.tokens, self.at):
                raise QuerySyntaxError(f"NOT at position {token.at + 1} needs a term after it.")
            with self.nested():
                child = self.unary(field)
            return Not(child) if child is not None else None
        return self.primary(field)

    def primary(self, field: str | None) -> QueryNode | None:
        token = self.take()
        if token.kind == "(":
            with self.nested():
                node = self.or_expr(field)
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QuerySyntaxError(f"The parenthesis opened at position {token.at + 1} is never closed.")
            self.take()
            return node
        if token.kind == "field":
            return self.fielded(token, field)
        if token.kind == "phrase":
            return self.phrase(token, field)
        if token.kind == "number":
            return self.number(token, field)
        if token.kind == "date":
            return self.date(token, field)
        return self.word(token, field)

    def names_a_field(self, token: _Tok) -> bool:
        """Whether `word:` is a field, or a word of pasted text ("Re: …", "NIP: …", "https://…").

        A known field is one unless written with capitals and a space after the colon, as labels
        in letters and invoices are. An unknown lower-case name right before a value is a typo'd
        field and refused, so that `autor:kowalski` does not quietly search two words.
        """
        name = token.text.lower()
        spaced = not token.after or token.after.isspace()
        if name in self.fields:
            return not (spaced and token.text != name)
        if spaced or token.text != name or not (token.after.isalnum() or token.after in '"('):
            return False
        allowed = ", ".join(sorted(self.fields))
        raise QuerySyntaxError(f"Unknown field {token.text!r}; fields you can search: {allowed}.")

    def fielded(self, token: _Tok, outer: str | None) -> QueryNode | None:
        if not self.names_a_field(token):
            return self.word(_Tok("word", token.text, token.at), outer)
        name = token.text.lower()
        if outer is not None and outer != name:
            raise QuerySyntaxError(f"Field {name!r} cannot be used inside {outer}:(…).")
        value = self.peek()
        if value is None or value.kind not in {"(", "phrase", "word", "number", "date"}:
            raise QuerySyntaxError(f"Field {name}: at position {token.at + 1} needs a value after the colon.")
        node = self.primary(name)
        if node is None:
            raise QuerySyntaxError(f"Field {name}: at position {token.at + 1} needs a word to search for.")
        return node

    def phrase(self, token: _Tok, field: str | None) -> QueryNode | None:
        words = tuple(w for w in token.text.split() if has_word(w))
        if not words:
            if field is not None or token.text.strip():
                raise QuerySyntaxError(f"The phrase at position {token.at + 1} has no words to search for.")
            return None
        self.count_clause()
        return Term(field, words[0]) if len(words) == 1 else Phrase(field, words)

    def number(self, token: _Tok, field: str | None) -> QueryNode:
        """A number written in groups: found so, or glued (``1234563218``, ``123-456-32-18``), and
        after a ``+`` country code also without it (``+48 601 234 567`` finds ``601 234 567``)."""
        words = tuple(token.text.split(" "))
        self.count_clause()
        if (amount := _AMOUNT_END_RE.fullmatch(words[-1])) is not None:
            # 12 345,67 as written, or as 12345,67 / 12345.67 (the index glues 12 345 where it stands).
            whole = "".join(number_group(word, first=index == 0) or "" for index, word in enumerate(words[:-1]))
            return Or((Phrase(field, words), Phrase(field, (whole + amount.group(1), amount.group(2)))))
        groups = [number_group(word, first=index == 0) or "" for index, word in enumerate(words)]
        alternatives: list[QueryNode] = [Phrase(field, words), Term(field, "".join(groups))]
        if words[0].startswith("+") and len(words) > 2:
            alternatives.append(Term(field, "".join(groups[1:])))
        return Or(tuple(alternatives))

    def date(self, token: _Tok, field: str | None) -> QueryNode:
        """A date in words: as written, as the index knows one written in digits, or in the words
        of the other language ("3 marca 2026" finds "March 3, 2026")."""
        words = tuple(token.text.split(" "))
        when = date_in_words(words)
        self.count_clause()
        return _any_date(field, str(when), Phrase(field, tuple(word.rstrip(",") for word in words)))

    def word(self, token: _Tok, field: str | None) -> QueryNode | None:
        text = token.text
        if "*" in text:
            stem = text.rstrip("*")
            if "*" in stem:
                raise QuerySyntaxError(f"{text!r}: a * may only end a word.")
            if not stem and field is None:
                return MatchAll()
            if sum(ch.isalnum() for ch in stem) < MIN_PREFIX:
                raise QuerySyntaxError(f"{text!r}: a prefix search needs at least {MIN_PREFIX} letters before *.")
            self.count_clause()
            self.prefixes += 1
            if self.prefixes > MAX_PREFIXES:
                raise QuerySyntaxError(f"The query has more than {MAX_PREFIXES} words ending in *; please use fewer.")
            return Prefix(field, stem)
        if (when := date_in_digits(text)) is not None:
            # As written (which finds it in digits however written), or written in words.
            self.count_clause()
            return _any_date(field, when, Term(field, text))
        if not has_word(text):
            # Punctuation alone ("'", ";", "&") is not searchable; it is ignored
            # rather than refused so pasted text still works.
            return None
        self.count_clause()
        return Term(field, text)

    def count_clause(self) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QuerySyntaxError(f"The query has more than {MAX_CLAUSES} terms; please shorten it.")

    def nested(self) -> _Depth:
        return _Depth(self)


class _Depth:
    def __init__(self, parser: _Parser) -> None:
        self.parser = parser

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"The query nests deeper than {MAX_DEPTH} levels.")

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1


def parse_query(text: str, *, fields: frozenset[str] = FIELDS) -> QueryNode:
    """Parse search-box text into a query tree.

    Empty text (or ``*``) gives `MatchAll`.  Raises `QuerySyntaxError` with a
    human-readable message for malformed text, over-long queries (more than
    `MAX_QUERY_LENGTH` characters, `MAX_CLAUSES` terms or `MAX_DEPTH` levels)
    and field names not in `fields` (the documents' by default; an index of other records passes
    its own); never raises anything else.
    """
    if not isinstance(text, str):
        raise QuerySyntaxError("The query must be text.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"The query is longer than {MAX_QUERY_LENGTH} characters; please shorten it.")
    return _simplify(_Parser(_tokenize(text), fields).parse())


def _simplify(node: QueryNode) -> QueryNode:
    """Flatten nested And/Or and drop double negation, so engines see a tidy tree."""
    if isinstance(node, And | Or):
        kind = type(node)
        flat: list[QueryNode] = []
        for child in node.children:
            child = _simplify(child)
            flat.extend(child.children if isinstance(child, kind) else (child,))
        if kind is And and any(isinstance(c, MatchAll) for c in flat):
            flat = [c for c in flat if not isinstance(c, MatchAll)] or [MatchAll()]
        if kind is Or and any(isinstance(c, MatchAll) for c in flat):
            return MatchAll()
        return flat[0] if len(flat) == 1 else kind(tuple(flat))
    if isinstance(node, Not):
        child = _simplify(node.child)
        return child.child if isinstance(child, Not) else Not(child)
    return node


def iter_leaves(node: QueryNode, *, negated: bool = False) -> Iterator[tuple[QueryNode, bool]]:
    """Yield each Term/Phrase/Prefix of the tree with whether it sits under a NOT."""
    if isinstance(node, And | Or):
        for child in node.children:
            yield from iter_leaves(child, negated=negated)
    elif isinstance(node, Not):
        yield from iter_leaves(node.child, negated=not negated)
    elif not isinstance(node, MatchAll | InBinders):
        yield node, negated


def replace_leaves(node: QueryNode, replace: Callable[[Term | Phrase | Prefix], QueryNode]) -> QueryNode:
    """`node` with each Term/Phrase/Prefix replaced by what `replace` returns for it (the rest kept)."""
    if isinstance(node, And | Or):
        return type(node)(tuple(replace_leaves(child, replace) for child in node.children))
    if isinstance(node, Not):
        return Not(replace_leaves(node.child, replace))
    if isinstance(node, Term | Phrase | Prefix):
        return replace(node)
    return node


def matches_text(node: Term | Phrase | Prefix, text: str) -> bool:
    """Whether `node` matches `text` as it matches a field of the index holding `text`.

    The same terms the index would hold (`search.analysis`) and the same rules an engine applies
    to them: a word matches by any of its alternatives, or a compound by its parts in a row; a
    phrase by its words at consecutive positions; a prefix by a surface term starting with it.
    """
    terms = term_positions(text)
    if isinstance(node, Prefix):
        prefix = prefix_term(node.text)
        return bool(prefix) and any(term.startswith(prefix) for term in terms)
    texts = (node.text,) if isinstance(node, Term) else node.words
    words = [word for t in texts for word in query_words(t)]
    if not words:
        return False
    if len(words) == 1:
        word = words[0]
        if any(term in terms for term in word.alternatives):
            return True
        return bool(word.parts) and _in_a_row(terms, word.parts)
    return _in_a_row(terms, [position for word in words for position in word.positions])


def is_single_word(node: Term | Phrase | Prefix) -> bool:
    """Whether `node` is one plain word or a prefix of one (no phrase, no compound such as ``A/B``).

    Such a node matches a text joined from names ("/Umowy/2026") when it matches one of the names
    on its own; only a phrase or a compound can match across the joins.
    """
    if isinstance(node, Prefix):
        return "/" not in prefix_term(node.text)
    if isinstance(node, Phrase):
        return False
    words = query_words(node.text)
    return len(words) == 1 and not words[0].parts


def _in_a_row(terms: dict[str, list[int]], steps: Sequence[tuple[str, ...]]) -> bool:
    """Whether some term of each step stands at consecutive positions, the steps in order."""
    starts: set[int] | None = None
    for offset, alternatives in enumerate(steps):
        here = {position - offset for term in alternatives for position in terms.get(term, ())}
        starts = here if starts is None else starts & here
        if not starts:
            return False
    return bool(starts)
