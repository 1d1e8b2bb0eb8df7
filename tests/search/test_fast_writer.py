"""Our segment writer writes what Whoosh's own `SegmentWriter` writes, only faster.

Both write the same documents into a segment of the same name; every stored field, column and
length file must be byte for byte the same, and every term must have the same postings (documents,
weights, positions) and the same statistics per term and per block.  (The postings file itself is
not byte-identical: ours shares the encoding of equal positions, which the pickled blocks then
store once.)
"""

from __future__ import annotations

import random
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from search import analysis, whoosh_engine
from search.directory import CounterpartyRecord
from search.whoosh_directory import _counterparty_document, counterparty_schema
from search.whoosh_parallel import _NamedSegmentCodec
from search.whoosh_writer import FastSegmentWriter, codec, encode_positions
from tests.search.conftest import record

WORDS = (
    "faktura faktury fakturze umowa umowy najmu płatność płatności Zażółć gęślą jaźń invoice invoices "
    "payment terms delivery FV/2026/0012 123-456-32-18 a/b/c/d/e/f/g/h/i/j e\u0301cole x_y do i w na"
).split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _documents(count: int) -> list[dict[str, Any]]:
    rng = random.Random(20261202)
    records = [
        record(
            n,
            _text(rng, rng.randint(1, 6)),
            # Long enough for positions past a block and for terms in more than one block.
            _text(rng, rng.choice([0, 3, 40, 400])),
            filename=f"faktura_{n}.pdf",
            description=rng.choice(["", f"Faktura FV/2026/{n:04d} za transport"]),
            document_type=rng.choice(["", "invoice", "contract"]),
            status=rng.choice(["", "new", "approved"]),
            counterparty_id=rng.choice([None, 1, 2]),
            counterparty_name=rng.choice(["", "ACME sp. z o.o.", "Żuraw"]),
            counterparty_nip=rng.choice(["", "123-456-32-18"]),
            tags=tuple(rng.sample(["pilne", "2026", "do-zapłaty"], k=rng.randint(0, 2))),
            received_at=rng.choice([None, datetime(2026, 3, n % 28 + 1)]),
            access_tokens=tuple(rng.sample(["all", "u:1", "g:2"], k=rng.randint(1, 2))),
        )
        for n in range(1, count + 1)
    ]
    return [whoosh_engine._document(r, whoosh_engine.HIGHLIGHT_CHARS) for r in records]


def _write(
    directory: Path, writer_class: type[SegmentWriter], schema: Any, documents: list[dict[str, Any]], limitmb: int
) -> Any:
    directory.mkdir()
    index = FileStorage(str(directory)).create_index(schema)
    writer = writer_class(index, _lk=False, limitmb=limitmb, codec=_NamedSegmentCodec("same"))
    for document in documents:
        writer.add_document(**document)
    return writer._finalize_segment()


def _files(directory: Path, segment: Any) -> dict[str, bytes]:
    compound = CompoundStorage(FileStorage(str(directory)).open_file(segment.make_filename(".seg")), use_mmap=False)
    return {name: compound.open_file(name).read() for name in compound.list()}


def _postings(reader: SegmentReader) -> dict[tuple[str, bytes], list[tuple[Any, ...]]]:
    found = {}
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        matcher = reader.postings(fieldname, text)
        postings: list[tuple[Any, ...]] = [
            (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
        ]
        while matcher.is_active():
            postings.append(
                (
                    matcher.id(),
                    matcher.weight(),
                    matcher.value(),
                    matcher.block_min_length(),
                    matcher.block_max_length(),
                    matcher.block_max_weight(),
                )
            )
            matcher.next()
        found[fieldname, text] = postings
    return found


@pytest.mark.parametrize(
    "schema", [whoosh_engine.build_schema, counterparty_schema], ids=["documents", "counterparties"]
)
@pytest.mark.parametrize("limitmb", [64, 1], ids=["in-memory", "spilled"])
def test_the_segment_is_whooshs_own(tmp_path: Path, schema: Any, limitmb: int) -> None:
    # With a limit of 1 MB both pools spill their postings to disk part of the way through.
    documents = _documents(300) if schema is whoosh_engine.build_schema else _counterparties(120)
    plain = _write(tmp_path / "plain", SegmentWriter, schema(), documents, limitmb)
    fast = _write(tmp_path / "fast", FastSegmentWriter, schema(), documents, limitmb)

    assert plain.doc_count_all() == fast.doc_count_all() == len(documents)
    _assert_same_segments(tmp_path / "plain", plain, tmp_path / "fast", fast, schema())


def _assert_same_segments(plain_dir: Path, plain: Any, fast_dir: Path, fast: Any, schema: Any) -> None:
    plain_files, fast_files = _files(plain_dir, plain), _files(fast_dir, fast)
    assert plain_files.keys() == fast_files.keys()
    for name in plain_files:
        if not name.endswith((".pst", ".trm")):
            assert plain_files[name] == fast_files[name], name
    plain_reader = SegmentReader(FileStorage(str(plain_dir)), schema, plain)
    fast_reader = SegmentReader(FileStorage(str(fast_dir)), schema, fast)
    try:
        assert _postings(fast_reader) == _postings(plain_reader)
    finally:
        plain_reader.close()
        fast_reader.close()


def _merge(directory: Path, writer_class: type[SegmentWriter], extra: list[dict[str, Any]]) -> Any:
    """Merge the index's segments into one, with `extra` new documents added before and after them."""
    index = FileStorage(str(directory)).open_index()
    writer = writer_class(index, _lk=False, limitmb=64, codec=_NamedSegmentCodec("merged"))
    for document in extra[: len(extra) // 2]:
        writer.add_document(**document)
    for segment in index._segments():
        reader = SegmentReader(index.storage, index.schema, segment)
        writer.add_reader(reader)
        reader.close()
    for document in extra[len(extra) // 2 :]:
        writer.add_document(**document)
    return writer._finalize_segment()


@pytest.mark.parametrize("extra", [0, 40], ids=["segments-only", "with-new-documents"])
@pytest.mark.parametrize("inlined", [True, False], ids=["inlined-sources", "sources-of-plain-whoosh"])
def test_merged_segments_are_whooshs_own(tmp_path: Path, extra: int, inlined: bool) -> None:
    documents = _documents(400)
    source = tmp_path / "source"
    source.mkdir()
    index = FileStorage(str(source)).create_index(whoosh_engine.build_schema())
    for part in range(3):
        # Segments written before terms were inlined stay in existing indexes, to be merged too.
        writer = index.writer(codec=codec()) if inlined else index.writer()
        for document in documents[part * 120 : (part + 1) * 120]:
            writer.add_document(**document)
        writer.commit(merge=False)
    writer = index.writer()
    for n in range(1, 361, 7):  # deletions in every segment
        writer.delete_by_term("id", str(n))
    writer.commit(merge=False)
    assert len(index._segments()) == 3
    shutil.copytree(source, tmp_path / "plain")
    shutil.copytree(source, tmp_path / "fast")
    added = documents[360 : 360 + extra]
    plain = _merge(tmp_path / "plain", SegmentWriter, added)
    fast = _merge(tmp_path / "fast", FastSegmentWriter, added)

    assert plain.doc_count_all() == fast.doc_count_all() == 360 - len(range(1, 361, 7)) + extra
    _assert_same_segments(tmp_path / "plain", plain, tmp_path / "fast", fast, whoosh_engine.build_schema())


def test_a_term_with_one_posting_is_held_in_the_term_table(tmp_path: Path) -> None:
    schema = whoosh_engine.build_schema()
    segment = _write(tmp_path / "fast", FastSegmentWriter, schema, _documents(20), 64)
    reader = SegmentReader(FileStorage(str(tmp_path / "fast")), schema, segment)
    try:
        counted = [
            (reader.term_info(*term).doc_frequency(), reader.term_info(*term).is_inlined())
            for term in reader.all_terms()
        ]
    finally:
        reader.close()
    assert {inlined for frequency, inlined in counted if frequency == 1} == {True}
    assert {inlined for frequency, inlined in counted if frequency > 1} == {False}


def _counterparties(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        _counterparty_document(
            CounterpartyRecord(
                n,
                _text(rng, 3),
                _text(rng, 1),
                tax_ids=("123-456-32-18",),
                persons=(_text(rng, 2),),
                contacts=("biuro@acme.pl", "+48 600 100 200"),
            )
        )
        for n in range(1, count + 1)
    ]


def test_term_positions_are_the_tokens_grouped_by_term() -> None:
    rng = random.Random(3)
    texts = [_text(rng, 200) for _ in range(20)] + ["", "---", "a/a/a a/a", "1/2/3/4/5/6/7/8/9/10 ąę/śź_x"]
    texts += [
        "NIP 123 456 32 18, tel. +48 601 234 567, PL61 1090 1014 0000 0712 1981 2874",
        "12 345,67 zł 1 1 11 12 1212,12 PL 123-456-32-18 1 2 3 4 5 6 7 8 9 10 2026\u00a0000",
        "tel. +48601234567, 0048601234567, 48601234567 +4860123456789012 +123456789 00123",
        "USD 4,200.00, 1,250,000 and 12,345,6789; 4 200,00 zł, 1,5 kg, x,100,200",
        "x²\u00a0100,200 ²,100,200 \u0663 100,200 1 100,200",
    ]
    for text in texts:
        grouped: dict[str, list[int]] = {}
        for token in analysis.iter_tokens(text):
            grouped.setdefault(token.term, []).append(token.position)
        positions = analysis.term_positions(text)
        assert positions == grouped
        assert list(positions) == list(grouped), "terms in order of first occurrence"


# Pieces of the texts where numbers are read across words: digits of several scripts, the group
# spaces, separators, commas, country codes and plus signs, next to plain words.
_NUMBERISH = st.text(
    alphabet=st.sampled_from(list("0123456789 ,.-/+PLx²\u0663\u00a0\u2009\tąA")), max_size=60
) | st.lists(
    st.sampled_from(
        ["4", "12", "100", "200", "2026", ".00", "-", "/", ",", " ", "\u00a0", "\t", "+", "PL", "x", "²", "\u0663"]
    ),
    max_size=16,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_NUMBERISH)
def test_term_positions_match_the_tokens_for_any_text_of_numbers(text: str) -> None:
    grouped: dict[str, list[int]] = {}
    for token in analysis.iter_tokens(text):
        grouped.setdefault(token.term, []).append(token.position)
    assert analysis.term_positions(text) == grouped


@pytest.mark.parametrize("positions", [[0], [7], [70_000], [1, 5, 9], [3, 3]])
def test_positions_are_encoded_as_whooshs_positions_format(positions: list[int]) -> None:
    from whoosh.formats import Positions

    assert encode_positions(positions) == Positions().encode(positions)
