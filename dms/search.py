"""Full-text search as a user asks it: parsed once, filtered by what the user may read — in the index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import anyio.to_thread
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access import queries as access_sql
from dms.actor import Actor
from dms.binders.service import get_binder, visible_outline
from dms.cases.models import Case
from dms.counterparties.models import Counterparty
from dms.counterparties.taxids import format_nip
from dms.documents import classification
from dms.documents.models import Document, DocumentVersion
from dms.documents.service import readable_documents
from dms.errors import DomainError, ValidationFailed
from dms.indexing.records import binder_token, document_token
from dms.outbox.models import OutboxEntry
from dms.times import utc_time
from search.analysis import fold
from search.errors import IndexRebuilding, IndexUnavailable, InvalidCursor, QuerySyntaxError
from search.highlight import Highlighter
from search.query import (
    InBinders,
    Or,
    Phrase,
    Prefix,
    QueryNode,
    Subtree,
    Term,
    is_single_word,
    iter_leaves,
    matches_text,
    parse_query,
    replace_leaves,
)
from search.records import AccessFilter, Hit, SearchRequest
from search.service import AsyncSearchEngine


class SearchUnavailable(DomainError):
    code = "INDEX_REBUILDING"
    default_message = "the search index is being rebuilt; try again in a moment"


@dataclass(frozen=True)
class SearchOptions:
    counterparty_id: int | None = None
    binder_id: int | None = None
    document_type: str | None = None
    status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: Literal["relevance", "date"] = "relevance"


@dataclass(frozen=True)
class FoundDocument:
    document: Document
    score: float
    cursor: str
    highlights: tuple[str, ...]


@dataclass(frozen=True)
class SearchPage:
    hits: list[FoundDocument]
    total: int
    has_next: bool
    end_cursor: str | None
    facets: dict[str, list[tuple[str, int]]]


def _snippets(hit: Hit) -> tuple[str, ...]:
    """The content's (or description's) snippets; for a match in the title alone, the title with it
    marked."""
    if hit.highlights:
        return hit.highlights
    return (hit.title_highlight,) if hit.title_highlight is not None else ()


@dataclass(frozen=True)
class _Labels:
    """What else a document is found by, each as the index has it, to show a match outside the text."""

    tags: str
    counterparty: str
    case: str
    filename: str


async def _labels(session: AsyncSession, documents: Sequence[Document]) -> dict[int, _Labels]:
    """One query for the documents' counterparty names, case titles and current file names."""
    if not documents:
        return {}
    rows = await session.execute(
        select(Document.id, Counterparty.name, Counterparty.nip, Case.number, Case.title, DocumentVersion.filename)
        .outerjoin(Counterparty, Counterparty.id == Document.counterparty_id)
        .outerjoin(Case, Case.id == Document.case_id)
        .outerjoin(DocumentVersion, DocumentVersion.id == Document.current_version_id)
        .where(Document.id.in_([d.id for d in documents]))
    )
    tags = {d.id: ", ".join(d.tags or ()) for d in documents}
    return {
        id_: _Labels(tags[id_], _card_label(name, nip), " ".join(filter(None, (number, title))), filename or "")
        for id_, name, nip, number, title, filename in rows
    }


def _card_label(name: str | None, nip: str | None) -> str:
    """The counterparty as a hit found through it shows it: its name, and its NIP, which a search for
    a tax number finds it by."""
    if not name:
        return ""
    return f"{name}, NIP {format_nip(nip)}" if nip else name


async def _snippets_outside_text(
    session: AsyncSession, query: QueryNode, found: list[FoundDocument]
) -> list[FoundDocument]:
    """A hit matched only in its tags, counterparty, case or file name shows that one, marked:
    otherwise the user sees no reason why it was found."""
    bare = [f.document for f in found if not f.highlights]
    if not bare:
        return found
    labels = await _labels(session, bare)
    fields: dict[str, tuple[str | None, ...]] = {
        "tags": (None, "tags"),
        "counterparty": (None, "counterparty", "nip"),
        "case": (None, "case"),
        "filename": (None, "filename"),
    }
    markers = {name: Highlighter.for_query(query, searched) for name, searched in fields.items()}
    shown = []
    for item in found:
        label = labels.get(item.document.id)
        if not item.highlights and label is not None:
            marked = next(
                (
                    snippet
                    for name, marker in markers.items()
                    if marker and (value := getattr(label, name)) and (snippet := marker.mark_all(value))
                ),
                None,
            )
            if marked:
                item = replace(item, highlights=(marked,))
        shown.append(item)
    return shown


async def access_filter(session: AsyncSession, actor: Actor) -> AccessFilter:
    """What the actor may read, as index tokens: readable binders, minus documents narrowed away.

    Computed by the same SQL as every list, at query time, so a permission or group change counts
    in search at once, exactly as everywhere else.
    """
    if actor.is_admin:
        return AccessFilter.everything()
    binders = set((await session.scalars(access_sql.readable_binders(actor, Access.READ))).all())
    narrowing = access_sql.document_narrowing(actor)
    hidden = set(
        (await session.scalars(select(narrowing.c.document_id).where(narrowing.c.access < int(Access.READ)))).all()
    )
    hidden.update((await session.scalars(_leaving_sight(actor))).all())
    return AccessFilter.tokens({binder_token(b) for b in binders}, {document_token(d) for d in hidden})


# Changes after which the index still files a document where the actor could read it, until the
# indexer catches up (seconds, or longer behind a bulk import): its results, counts and facets
# must not show it meanwhile.
_LEAVING_SIGHT = ("moved", "trashed", "purged")


def _leaving_sight(actor: Actor) -> Select[tuple[int]]:
    """Documents waiting to be re-indexed that are gone, in the trash, or now in a binder the actor
    may not read."""
    readable = access_sql.readable_binders(actor, Access.READ)
    return (
        select(OutboxEntry.document_id)
        .outerjoin(Document, Document.id == OutboxEntry.document_id)
        .where(
            OutboxEntry.reason.in_(_LEAVING_SIGHT),
            or_(Document.id.is_(None), Document.trashed_at.is_not(None), Document.binder_id.not_in(readable)),
        )
        .distinct()
    )


async def resolve_binder_clauses(session: AsyncSession, actor: Actor, query: QueryNode) -> QueryNode:
    """`query` with each ``binder:`` clause turned into the subtrees of the binders it names — as the actor sees them.

    A clause matches a document when it matches the path of the document's binder as far up as
    the actor may read (the path the API shows them), so the name of a binder they may not read
    never finds, counts or excludes anything: to them it does not exist. Resolved here, at query
    time, against the current tree and permissions; the index only answers "in which subtree".
    """
    clauses = {
        leaf for leaf, _ in iter_leaves(query) if isinstance(leaf, Term | Phrase | Prefix) and leaf.field == "binder"
    }
    if not clauses:
        return query
    parents, paths = await visible_outline(session, actor)
    # Analysing every name is CPU work that grows with the tree: off the event loop.
    return await anyio.to_thread.run_sync(_resolve, query, clauses, parents, paths)


def _resolve(
    query: QueryNode,
    clauses: Collection[Term | Phrase | Prefix],
    parents: Mapping[int, int | None],
    paths: Mapping[int, str],
) -> QueryNode:
    children: defaultdict[int, list[int]] = defaultdict(list)
    for binder_id, parent_id in parents.items():
        if parent_id is not None:
            children[parent_id].append(binder_id)
    resolved = {clause: InBinders(_subtrees(_matching(clause, paths), parents, children)) for clause in clauses}
    return replace_leaves(query, lambda leaf: resolved.get(leaf, leaf))


def _matching(clause: Term | Phrase | Prefix, paths: Mapping[int, str]) -> set[int]:
    """The binders whose visible path `clause` matches.

    A word or prefix is matched against each distinct name once (names repeat: "2026",
    "Faktury"), not against each whole path; a phrase or a compound against the path, as it may
    span names ("Umowy/2026").
    """
    if not is_single_word(clause):
        return {binder_id for binder_id, path in paths.items() if matches_text(clause, path)}
    names: dict[str, bool] = {}

    def named(name: str) -> bool:
        if (hit := names.get(name)) is None:
            hit = names[name] = matches_text(clause, name)
        return hit

    # A name never holds "/": the path is the visible names joined by it.
    return {binder_id for binder_id, path in paths.items() if any(named(n) for n in path.split("/")[1:])}


def _subtrees(
    matched: Collection[int], parents: Mapping[int, int | None], children: Mapping[int, list[int]]
) -> tuple[Subtree, ...]:
    """Exactly the binders in `matched`, as subtrees: each topmost matched binder, less the
    binders right below a matched one that are not matched themselves (and all below those,
    where further matched binders start subtrees of their own)."""
    subtrees = []
    for root in sorted(b for b in matched if parents.get(b) not in matched):
        excluding, below = [], [root]
        while below:
            for child in children.get(below.pop(), ()):
                (below if child in matched else excluding).append(child)
        subtrees.append(Subtree(root, tuple(sorted(excluding))))
    return tuple(subtrees)


async def resolve_classification_clauses(session: AsyncSession, query: QueryNode) -> QueryNode:
    """`query` with each ``type:`` and ``status:`` clause that gives a name (``type:Korespondencja``,
    ``status:"W toku"``) turned into the codes of the types or statuses of that name; the index
    holds codes. The name is compared as words, in any case and with or without Polish letters; a
    clause that is a code, or no name, stays as it is."""
    clauses = {leaf for leaf, _ in iter_leaves(query) if isinstance(leaf, Term | Phrase) and leaf.field in _NAMED}
    if not clauses:
        return query
    named = {
        "type": [(kind.code, kind.name) for kind in await classification.list_types(session)],
        "status": [(status.code, status.name) for status in await classification.statuses(session)],
    }

    def resolved(leaf: Term | Phrase | Prefix) -> QueryNode:
        if leaf not in clauses or leaf.field is None:
            return leaf
        text = leaf.text if isinstance(leaf, Term) else " ".join(leaf.words)
        key = _name_key(text)
        codes = [
            code for code, name in named[leaf.field] if code.casefold() == text.casefold() or _name_key(name) == key
        ]
        terms = tuple(Term(leaf.field, code) for code in dict.fromkeys(codes))
        if not terms:
            # Nothing has it: a misspelt "status:zamkniety" would find nothing, silently.
            raise _unknown(_WHAT[leaf.field], named[leaf.field], "query")
        return terms[0] if len(terms) == 1 else Or(terms)

    return replace_leaves(query, resolved)


_NAMED = ("type", "status")
_WHAT = {"type": "document type", "status": "status"}


def _name_key(text: str) -> tuple[str, ...]:
    return tuple(fold(word) for word in text.split())


#: Codes listed in a "no such type" message, at most: a company may configure hundreds.
_CODES_SHOWN = 20


def _one_code(given: str, known: list[tuple[str, str]], what: str, field: list[str]) -> str:
    """The code a filter means: given as a code, or as the whole name (any case, with or without
    Polish letters), like a ``type:`` clause. A misspelt one would find nothing, silently: refused."""
    exact = [code for code, _name in known if code.casefold() == given.casefold()]
    named = [code for code, name in known if _name_key(name) == _name_key(given)]
    found = list(dict.fromkeys(exact or named))
    if len(found) == 1:
        return found[0]
    if found:
        raise ValidationFailed(f"several {what}s have this name: give the code, one of {', '.join(found)}", field=field)
    raise _unknown(what, known, field)


def _unknown(what: str, known: list[tuple[str, str]], field: str | list[str]) -> ValidationFailed:
    codes = [code for code, _name in known]
    shown = ", ".join(codes[:_CODES_SHOWN]) + (", …" if len(codes) > _CODES_SHOWN else "")
    return ValidationFailed(f"no {what} has this code or name; the codes are: {shown or 'none yet'}", field=field)


async def _resolved_classification(session: AsyncSession, options: SearchOptions) -> SearchOptions:
    """`options` with the type and status filters as codes (the index holds codes)."""
    if options.document_type is not None:
        types = [(kind.code, kind.name) for kind in await classification.list_types(session)]
        code = _one_code(options.document_type, types, "document type", ["filter", "documentType"])
        options = replace(options, document_type=code)
    if options.status is not None:
        states = [(status.code, status.name) for status in await classification.statuses(session)]
        options = replace(options, status=_one_code(options.status, states, "status", ["filter", "status"]))
    return options


async def search_documents(
    session: AsyncSession,
    engine: AsyncSearchEngine | None,
    actor: Actor,
    text: str,
    *,
    options: SearchOptions,
    first: int,
    after: str | None,
    facets: Sequence[str] = ("document_type", "counterparty", "year"),
) -> SearchPage:
    try:
        query = parse_query(text)
    except QuerySyntaxError as exc:
        raise ValidationFailed(str(exc), field="query") from exc
    options = await _resolved_classification(session, options)
    date_from = None if options.date_from is None else utc_time(options.date_from, field=["filter", "dateFrom"])
    date_to = None if options.date_to is None else utc_time(options.date_to, field=["filter", "dateTo"])
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationFailed("the period ends before it starts", field=["filter", "dateTo"])
    after = after or None  # "" is no cursor, as in every other list
    if engine is None:
        raise SearchUnavailable("search is not running on this server")
    if options.binder_id is not None:
        await get_binder(session, actor, options.binder_id)
    allowed = await access_filter(session, actor)
    if allowed.shows_nothing:
        return SearchPage(hits=[], total=0, has_next=False, end_cursor=None, facets={name: [] for name in facets})
    query = await resolve_binder_clauses(session, actor, query)
    query = await resolve_classification_clauses(session, query)
    try:
        request = SearchRequest(
            query=query,
            access=allowed,
            counterparty_id=options.counterparty_id,
            binder_id=options.binder_id,
            document_type=options.document_type,
            status=options.status,
            date_from=date_from,
            date_to=date_to,
            sort=options.sort,
            limit=max(first, 1),
            after=after,
            facets=frozenset(facets),
        )
        result = await engine.search(request)
    except InvalidCursor as exc:
        raise ValidationFailed("the cursor is not valid", field="after") from exc
    except QuerySyntaxError as exc:  # what the index finds too broad (a prefix of many words)
        raise ValidationFailed(str(exc), field="query") from exc
    except (IndexRebuilding, IndexUnavailable) as exc:
        raise SearchUnavailable() from exc
    hits = result.hits[:first]
    documents = {d.id: d for d in await readable_documents(session, actor, [hit.document_id for hit in hits])}
    found = [
        FoundDocument(documents[hit.document_id], hit.score, hit.cursor, _snippets(hit))
        for hit in hits
        # The index lags the database by moments: a document trashed or moved away since is left out.
        if hit.document_id in documents and documents[hit.document_id].trashed_at is None
    ]
    found = await _snippets_outside_text(session, query, found)
    return SearchPage(
        hits=found,
        total=result.total,
        # An empty page (first: 0) asked the index for one hit: any hit lies past the page.
        has_next=result.has_next if first > 0 else bool(result.hits),
        end_cursor=found[-1].cursor if found else None,
        facets=result.facets,
    )
