"""A Whoosh segment writer that indexes our analysed text, and merges segments, without Whoosh's per-posting work.

Whoosh's `SegmentWriter` makes a token object for every term of every word, encodes each posting's
positions through a generic format, puts every posting into a pool that sorts them all, and, when
writing the segment, looks up the document's field length again for every posting.  With our
analysis (a word is indexed as three or four terms) that per-term Python work is most of the cost
of indexing.  This writer produces the segment Whoosh's would (a test compares the stored fields,
columns and lengths byte for byte, and every posting and term statistic), doing per term only
what the files need:

* a field whose analyzer offers ``term_positions`` (our `KartotekaTokenizer`) gets each term's
  positions in one call; the positions are encoded as Whoosh's `Positions` format does, with the
  encoding of a single position (most postings) cached;
* postings are grouped by term as they come, so only the distinct terms are sorted at the end;
* a term with a single posting keeps it in the term table (`codec`), as Whoosh's codec can but
  never did; Whoosh's own writer, given the same codec, writes the same;
* each document's field lengths are kept as they are written, for the per-posting block statistics;
* a segment added whole (a merge) is not poured into the pool to be sorted again: its terms, in
  order already, are read block by block and merged with the other sources' while writing.

Stored fields, columns and other fields' postings are written by Whoosh's own code.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pickle import dumps
from typing import Any

from whoosh import formats
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter, W3TermInfo, W3TermsReader
from whoosh.reading import SegmentReader
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import PostingPool, SegmentWriter

Posting = tuple[str, bytes, int, float, bytes | None]
#: A term of a field with its postings: (docnum, weight, encoded value) in docnum order.
TermPostings = tuple[str, bytes, list[tuple[int, float, bytes | None]]]

#: Rough bytes per pooled posting (tuples, the term's bytes, the value) for the memory limit; the
#: same estimate Whoosh's own pool makes.
_POSTING_BYTES = 150
#: Single positions below this have their encoding cached (they are most postings of a document).
_CACHED_POSITIONS = 1 << 16

#: Terms with fewer postings than this keep them in the term table, without a block of their own in
#: the postings file. Most terms of a segment (rare words, numbers, amounts, compound runs) have a
#: single posting, and writing a block for each (a header, two pickles) was a fifth of writing.
INLINE_LIMIT = 2

_single_position: dict[int, bytes] = {}


def _set_inline(terminfo: W3TermInfo, ids: Any, weights: Any, values: list[bytes]) -> None:
    # Postings without values (an ID field's) are kept as None each: the `ListMatcher` reading them
    # then gives None, as a block's reader does, where an empty tuple would give "", which Whoosh's
    # own merging refuses.
    terminfo.set_inlined(ids, weights, values or [None] * len(ids))


# The fork's `W3PostingsWriter.finish_postings` calls `set_inline`, which its `W3TermInfo` lacks
# (it has `set_inlined`): without this no writer could inline postings.
W3TermInfo.set_inline = _set_inline


def codec() -> W3Codec:
    """Whoosh's codec as every writer of our indexes writes segments (readers need no settings)."""
    return W3Codec(inlinelimit=INLINE_LIMIT)


def encode_positions(positions: list[int]) -> bytes:
    """What `whoosh.formats.Positions.encode` gives for `positions`, fast for a single position."""
    if len(positions) == 1:
        position = positions[0]
        encoded = _single_position.get(position)
        if encoded is None:
            encoded = pack_uint(1) + dumps([position], 2)
            if position < _CACHED_POSITIONS:
                _single_position[position] = encoded
        return encoded
    deltas = []
    base = 0
    for position in positions:
        deltas.append(position - base)
        base = position
    return pack_uint(len(deltas)) + dumps(deltas, 2)


def stored_length(length: int) -> int:
    """A field length as the segment stores it (one byte, so approximate), as readers see it."""
    return byte_to_length(length_to_byte(length))


class TermPool:
    """Postings grouped by (field, term) as they arrive; only the distinct terms are sorted at the end.

    Terms of the fields we analyse are kept as text, per field: each is encoded once, when the
    segment is written, rather than once per posting.  Over `limitmb` of postings everything goes
    to Whoosh's `PostingPool`, which sorts runs on disk.
    """

    def __init__(self, tempstore: Any, segment: Any, *, limitmb: int) -> None:
        self._tempstore = tempstore
        self._segment = segment
        self._limitmb = limitmb
        self._budget = limitmb * 1024 * 1024 // _POSTING_BYTES
        self._terms: dict[tuple[str, bytes], list[tuple[int, float, bytes | None]]] = {}
        #: fieldname -> term -> postings, for the fields `add_positions` fills.
        self._texts: dict[str, dict[str, list[tuple[int, float, bytes | None]]]] = {}
        self._count = 0
        self._spilled: PostingPool | None = None
        self.fieldnames: set[str] = set()

    def add(self, item: Posting) -> None:
        if self._spilled is not None:
            self._spilled.add(item)
            return
        fieldname, btext, docnum, weight, vbytes = item
        key = (fieldname, btext)
        if (postings := self._terms.get(key)) is None:
            self._terms[key] = [(docnum, weight, vbytes)]
            self.fieldnames.add(fieldname)
        else:
            postings.append((docnum, weight, vbytes))
        self._count += 1
        if self._count > self._budget:
            self._spill()

    def add_positions(
        self, fieldname: str, docnum: int, positions: dict[str, list[int]], format_boost: float, boost: float
    ) -> int:
        """A document's postings in a field, from each term's positions; returns the field's length."""
        if self._spilled is not None:
            for term, found in positions.items():
                weight = float(len(found)) * format_boost * boost
                self._spilled.add((fieldname, term.encode("utf-8"), docnum, weight, encode_positions(found)))
            return sum(len(found) for found in positions.values())
        if (terms := self._texts.get(fieldname)) is None:
            terms = self._texts[fieldname] = {}
            self.fieldnames.add(fieldname)
        length = 0
        single = _single_position
        for term, found in positions.items():
            frequency = len(found)
            length += frequency
            if frequency != 1 or (encoded := single.get(found[0])) is None:
                encoded = encode_positions(found)
            posting = (docnum, float(frequency) * format_boost * boost, encoded)
            if (postings := terms.get(term)) is None:
                terms[term] = [posting]
            else:
                postings.append(posting)
        self._count += len(positions)
        if self._count > self._budget:
            self._spill()
        return length

    def _by_field(self) -> dict[str, dict[bytes, list[tuple[int, float, bytes | None]]]]:
        """Every pooled term by field, as bytes (a field filled both ways has its postings joined)."""
        fields: dict[str, dict[bytes, list[tuple[int, float, bytes | None]]]] = {}
        for (fieldname, btext), postings in self._terms.items():
            fields.setdefault(fieldname, {})[btext] = postings
        for fieldname, texts in self._texts.items():
            terms = fields.setdefault(fieldname, {})
            for term, postings in texts.items():
                btext = term.encode("utf-8")
                if (joined := terms.get(btext)) is None:
                    terms[btext] = postings
                else:
                    joined.extend(postings)
                    joined.sort(key=_docnum)
        return fields

    def _spill(self) -> None:
        pool = PostingPool(self._tempstore, self._segment, limitmb=self._limitmb)
        for fieldname, terms in self._by_field().items():
            for btext, postings in terms.items():
                for docnum, weight, vbytes in postings:
                    pool.add((fieldname, btext, docnum, weight, vbytes))
        self._terms.clear()
        self._texts.clear()
        self._spilled = pool

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting in (field, term, docnum) order, as Whoosh's pool gives them."""
        for fieldname, btext, postings in self.iter_terms():
            for docnum, weight, vbytes in postings:
                yield fieldname, btext, docnum, weight, vbytes

    def iter_terms(self) -> Iterator[TermPostings]:
        """Each (field, term) in order with its postings in docnum order."""
        if self._spilled is not None:
            for (fieldname, btext), group in groupby(self._spilled.iter_postings(), key=_term):
                yield fieldname, btext, [(docnum, weight, vbytes) for _, _, docnum, weight, vbytes in group]
            return
        fields = self._by_field()
        for fieldname in sorted(fields):
            terms = fields[fieldname]
            for btext in sorted(terms):
                # Documents are added in docnum order: each term's postings are in order already.
                yield fieldname, btext, terms[btext]

    def cleanup(self) -> None:
        self._terms.clear()
        self._texts.clear()
        if self._spilled is not None:
            self._spilled.cleanup()


def _docnum(posting: tuple[int, float, bytes | None]) -> int:
    return posting[0]


def _term(posting: Posting) -> tuple[str, bytes]:
    return posting[0], posting[1]


class FastSegmentWriter(SegmentWriter):
    """`SegmentWriter` writing the same segment with much less work per term (see the module)."""

    def __init__(self, index: Any, **kwargs: Any) -> None:
        kwargs.setdefault("codec", codec())
        super().__init__(index, **kwargs)
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise TypeError(f"field {name!r}: this writer does not write term vectors or spelling words")
        limitmb = kwargs.get("limitmb", 128)
        self.pool = TermPool(self._tempstorage, self.newsegment, limitmb=limitmb)
        #: fieldname -> docnum -> the field length as stored, for documents added here.
        self._lengths: dict[str, dict[int, int]] = {}
        #: Segments added whole, whose postings are merged in when this segment is written.
        self._merged: list[_AddedSegment] = []

    def add_document(self, **fields: Any) -> None:
        # Whoosh's `SegmentWriter.add_document`, less what our fields never use (vectors, spelling
        # words), with the fast path for fields analysed by us.
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        add_post = self.pool.add
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        lengths: dict[str, int] = {}
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    if isinstance(value, str) and _analysed_by_us(field):
                        length = self.pool.add_positions(
                            fieldname,
                            docnum,
                            field.analyzer.term_positions(value),
                            field.format.field_boost,
                            fieldboost,
                        )
                    else:
                        for btext, frequency, weight, vbytes in field.index(value):
                            length += frequency
                            add_post((fieldname, btext, docnum, weight * fieldboost, vbytes))
                    if not field.scorable:
                        length = 0
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
                lengths[fieldname] = length
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
        except ValueError:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        for fieldname, length in lengths.items():
            self._lengths.setdefault(fieldname, {})[docnum] = stored_length(length)
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: Any) -> None:
        """Add the live documents of another segment: stored fields and columns now, postings later.

        Whoosh's own `add_reader` puts every posting of the other segment into the pool, to be
        sorted again (on disk, for a big segment) although a segment's terms are in order already:
        that made merging as slow as indexing.  Here they are read term by term while this segment
        is written, merged with the pool's terms and any other added segment's.
        """
        self._check_state()
        indexed = {name for name in reader.indexed_field_names() if name in self.schema}
        base = self.docnum
        docmap = self.write_per_doc(set(self.schema.names()) | indexed, reader)
        self._keep_lengths(reader, base, docmap)
        # A reader of our own: the caller may close theirs as soon as this returns.
        own = SegmentReader(self.storage, self.schema, reader.segment())
        self._merged.append(_AddedSegment(own, base, docmap))
        self._added = True

    def _keep_lengths(self, reader: Any, base: int, docmap: dict[int, int] | None) -> None:
        """The added documents' field lengths, once per document rather than once per posting."""
        if docmap is not None:
            renumbered: Iterable[tuple[int, int]] = docmap.items()
        else:
            renumbered = ((old, base + old) for old in range(reader.doc_count_all()))
        scorable = [name for name, field in self.schema.items() if field.scorable]
        lengths = [(self._lengths.setdefault(name, {}), name) for name in scorable]
        for old, new in renumbered:
            for known, name in lengths:
                known[new] = reader.doc_field_length(old, name)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        try:
            terms = self.pool.iter_terms()
            if self._merged:
                terms = _merged_terms([terms, *(added.terms() for added in self._merged)])
            _write_postings(self.fieldwriter, self.schema, terms, self._length_of(pdr))
        finally:
            self.fieldwriter.close()
            if pdr:
                pdr.close()

    def _close_segment(self) -> None:
        try:
            super()._close_segment()
        finally:
            for added in self._merged:
                added.reader.close()
            self._merged.clear()

    def _length_of(self, pdr: Any) -> Callable[[str], FieldLengths]:
        """Per field, the stored length of a document: kept from `add_document`, else read back."""

        def for_field(fieldname: str) -> FieldLengths:
            if pdr is None:  # a codec without length statistics: Whoosh passes 0
                return FieldLengths({}, None)
            return FieldLengths(self._lengths.get(fieldname, {}), pdr.doc_field_length_reader(fieldname))

        return for_field


class FieldLengths:
    """A field's stored length per document: kept when the document was added, else read back."""

    def __init__(self, known: dict[int, int], stored: Callable[[int], int] | None) -> None:
        self.known = known
        self.stored = stored

    def __call__(self, docnum: int) -> int:
        found = self.known.get(docnum)
        if found is not None:
            return found
        return self.stored(docnum) if self.stored is not None else 0

    def of(self, docnums: list[int]) -> list[int]:
        try:
            return list(map(self.known.__getitem__, docnums))
        except KeyError:
            return [self(docnum) for docnum in docnums]


def _write_postings(
    fieldwriter: Any,
    schema: Any,
    terms: Iterator[TermPostings],
    length_of: Callable[[str], FieldLengths],
) -> None:
    """Whoosh's `FieldWriter.add_postings`, fed by term instead of by posting."""
    current: str | None = None
    length = FieldLengths({}, None)
    start_term, add, finish_term = fieldwriter.start_term, fieldwriter.add, fieldwriter.finish_term
    for fieldname, btext, postings in terms:
        if fieldname != current:
            if current is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            current = fieldname
            length = length_of(fieldname)
        start_term(btext)
        postwriter = getattr(fieldwriter, "_postwriter", None)
        if type(postwriter) is W3PostingsWriter and not postwriter._byteids:
            _add_by_block(postwriter, postings, length)
        else:
            for docnum, weight, vbytes in postings:
                add(docnum, weight, vbytes or b"", length(docnum))
        finish_term()
    if current is not None:
        fieldwriter.finish_field()


def _add_by_block(
    postwriter: W3PostingsWriter, postings: list[tuple[int, float, bytes | None]], length: FieldLengths
) -> None:
    """`W3PostingsWriter.add_posting` for every posting of a term, filling a block at a time."""
    if len(postings) == 1 and not postwriter._ids:
        # Most terms: one posting, which the term table usually holds inline.
        docnum, weight, value = postings[0]
        postwriter._ids.append(docnum)
        postwriter._weights.append(weight)
        postwriter._maxweight = max(postwriter._maxweight, weight)
        if value:
            postwriter._values.append(value)
        if found := length(docnum):
            postwriter._minlength = found if postwriter._minlength is None else min(postwriter._minlength, found)
            postwriter._maxlength = max(postwriter._maxlength, found)
        return
    limit = postwriter._blocklimit
    start, count = 0, len(postings)
    while start < count:
        if len(postwriter._ids) >= limit:
            postwriter._write_block()
        chunk = postings[start : start + limit - len(postwriter._ids)]
        start += len(chunk)
        docnums = [posting[0] for posting in chunk]
        postwriter._ids.extend(docnums)
        weights = [posting[1] for posting in chunk]
        postwriter._weights.extend(weights)
        postwriter._maxweight = max(postwriter._maxweight, *weights)
        postwriter._values.extend([posting[2] for posting in chunk if posting[2]])
        lengths = [found for found in length.of(docnums) if found]
        if lengths:
            shortest = min(lengths)
            if postwriter._minlength is None or shortest < postwriter._minlength:
                postwriter._minlength = shortest
            postwriter._maxlength = max(postwriter._maxlength, *lengths)


class _AddedSegment:
    """A segment added whole to a writer, with where its live documents landed."""

    def __init__(self, reader: Any, base: int, docmap: dict[int, int] | None) -> None:
        self.reader = reader
        self.base = base
        #: Old docnum -> new, when the segment has deletions; else new = base + old.
        self.docmap = docmap

    def terms(self) -> Iterator[TermPostings]:
        """Its terms in (field, term) order, each with its live postings renumbered."""
        base, docmap = self.base, self.docmap
        last: tuple[str, bytes] | None = None
        for fieldname, btext, postings in _segment_postings(self.reader):
            key = (fieldname, btext)
            if last is not None and key <= last:
                raise ValueError(f"segment {self.reader.segment().segment_id()}: terms out of order at {key!r}")
            last = key
            if docmap is None:
                yield fieldname, btext, [(base + docnum, weight, value) for docnum, weight, value in postings]
                continue
            live = [(docmap[docnum], weight, value) for docnum, weight, value in postings if docnum in docmap]
            if live:  # every posting of a term may belong to deleted documents
                yield fieldname, btext, live


def _segment_postings(reader: Any) -> Iterator[TermPostings]:
    """Every term of a segment in stored order with all its postings, deleted documents included.

    A segment of Whoosh's own codec is read block by block: each block's documents, weights and
    values are decoded as whole arrays, where a matcher would take three calls per posting.
    """
    schema = reader.schema
    terms = getattr(reader, "_terms", None)
    if not isinstance(terms, W3TermsReader):
        yield from _postings_by_matcher(reader)
        return
    for (fieldname, btext), info in terms.items():
        if fieldname not in schema:
            continue
        matcher = terms._codec.postings_reader(terms._postfile, info, schema[fieldname].format, term=(fieldname, btext))
        if type(matcher) is not W3LeafMatcher:
            yield fieldname, btext, _drain(matcher)
            continue
        postings: list[tuple[int, float, bytes | None]] = []
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            postings.extend(zip(matcher._ids, matcher._weights, matcher._values, strict=True))
            matcher._next_block()
        yield fieldname, btext, postings


def _postings_by_matcher(reader: Any) -> Iterator[TermPostings]:
    deleted = reader.deleted_docs_set
    for fieldname, btext in reader.all_terms():
        if fieldname in reader.schema:
            # Deleted documents' postings stay: the caller drops them like the block reader's.
            postings = _drain(reader.postings(fieldname, btext))
            if deleted:
                postings = [posting for posting in postings if posting[0] not in deleted]
            yield fieldname, btext, postings


def _drain(matcher: Any) -> list[tuple[int, float, bytes | None]]:
    postings = []
    while matcher.is_active():
        postings.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return postings


def _merged_terms(sources: list[Iterator[TermPostings]]) -> Iterator[TermPostings]:
    """The terms of several sorted term streams in order, the postings of a shared term joined by docnum."""
    current: tuple[str, bytes] | None = None
    joined: list[tuple[int, float, bytes | None]] = []
    parts = 0
    for fieldname, btext, postings in heapq.merge(*sources, key=_term_key):
        key = (fieldname, btext)
        if key != current:
            if current is not None:
                yield current[0], current[1], _in_docnum_order(joined, parts)
            current, joined, parts = key, list(postings), 1
        else:
            joined.extend(postings)
            parts += 1
    if current is not None:
        yield current[0], current[1], _in_docnum_order(joined, parts)


def _term_key(item: TermPostings) -> tuple[str, bytes]:
    return item[0], item[1]


def _in_docnum_order(
    postings: list[tuple[int, float, bytes | None]], parts: int
) -> list[tuple[int, float, bytes | None]]:
    if parts > 1:
        postings.sort(key=_docnum)
    return postings


def _analysed_by_us(field: Any) -> bool:
    """True for a field whose analyzer gives term positions itself and whose postings hold positions."""
    return type(field.format) is formats.Positions and callable(getattr(field.analyzer, "term_positions", None))
