"""Where the indexer gets a document's text: the text cache, else the extraction worker."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dms.documents.models import DocumentVersion
from dms.indexing.texts import TextCache
from search.extraction import Extraction
from search.formats import EXTRACTOR_VERSIONS
from tests.conftest import drain

SHA = "ab" + "0" * 62


def test_a_cached_extraction_reads_back_as_it_was_written(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    extraction = Extraction("Zażółć gęślą jaźń", "ok", "text truncated to 17 characters", True)
    cache.write(SHA, extraction)
    assert cache.read(SHA) == extraction
    assert [path.name for path in (tmp_path / "texts" / "ab").iterdir()] == [f"{SHA}.json.gz"], "no temporary file left"


def test_a_timeout_is_tried_once_more_and_then_kept(tmp_path: Path) -> None:
    # Once may be a busy machine; after that, each metadata change would hold up the indexer again.
    cache = TextCache(tmp_path / "texts")
    timeout = Extraction("", "timeout", "extraction took longer than 60 s")
    cache.write(SHA, timeout)
    assert cache.read(SHA) is None
    cache.write(SHA, timeout)
    assert cache.read(SHA) == timeout
    assert cache.read(SHA, extractor=1) == timeout
    # A new version of the extractor gets its own two tries.
    cache.write(SHA, timeout, extractor=2)
    assert cache.read(SHA, extractor=2) is None
    cache.write(SHA, timeout, extractor=2)
    assert cache.read(SHA, extractor=2) == timeout
    # A success written later (the cache entry deleted and read again) replaces it.
    cache.write(SHA, Extraction("tekst", "ok"))
    assert cache.read(SHA) == Extraction("tekst", "ok")


def test_a_damaged_cache_file_counts_as_missing(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    cache.write(SHA, Extraction("tekst", "ok"))
    path = tmp_path / "texts" / "ab" / f"{SHA}.json.gz"
    path.write_bytes(path.read_bytes()[:10])
    assert cache.read(SHA) is None


def write_as_older_extractors_did(cache: TextCache, sha256: str, text: str) -> None:
    """A cache entry from before extractor versions were recorded: version 1 of every extractor."""
    path = cache.directory / sha256[:2] / f"{sha256}.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"text": text, "status": "ok", "error": None}).encode()))


def test_a_text_from_an_older_extractor_is_read_again_but_kept_for_when_the_file_is_gone(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    write_as_older_extractors_did(cache, SHA, "Załącznik: [nieodczytany arkusz]")
    assert cache.read(SHA, extractor=1) == Extraction("Załącznik: [nieodczytany arkusz]", "ok")
    assert cache.read(SHA, extractor=2) is None
    assert cache.read(SHA) == Extraction("Załącznik: [nieodczytany arkusz]", "ok")

    cache.write(SHA, Extraction("Załącznik: Zestawienie faktur", "ok"), extractor=2)
    assert cache.read(SHA, extractor=2) == Extraction("Załącznik: Zestawienie faktur", "ok")


def count_extractions(indexer: Any, monkeypatch: Any) -> list[str]:
    """The MIME types the extraction worker is asked to read, one per extraction."""
    asked: list[str] = []
    extract = indexer.extractor.extract

    def counted(source: Any, mime_type: str, **options: Any) -> Extraction:
        asked.append(mime_type)
        return extract(source, mime_type, **options)

    monkeypatch.setattr(indexer.extractor, "extract", counted)
    return asked


async def version_sha256(services: Any, document_id: int) -> str:
    async with services.db.sessions() as session:
        query = select(DocumentVersion.sha256).where(DocumentVersion.document_id == document_id)
        return (await session.execute(query)).scalar_one()


async def extraction_status(services: Any, document_id: int) -> tuple[str, str | None]:
    async with services.db.sessions() as session:
        version = (
            await session.execute(select(DocumentVersion).where(DocumentVersion.document_id == document_id))
        ).scalar_one()
        return version.extraction_status, version.extraction_error


async def test_a_reindex_reads_texts_from_the_cache_without_extracting_again(services, document_id, monkeypatch):
    asked = count_extractions(services.indexer, monkeypatch)
    await drain(services.indexer)
    assert asked == ["text/plain"]
    assert await services.indexer.rebuild() == 1
    assert asked == ["text/plain"]
    assert await extraction_status(services, document_id) == ("ok", None)


async def test_a_document_whose_bytes_are_gone_keeps_its_cached_text(services, document_id, caplog):
    await drain(services.indexer)
    sha256 = await version_sha256(services, document_id)
    await services.blobs.delete(sha256)
    await services.indexer.rebuild()
    assert await extraction_status(services, document_id) == ("ok", None)

    shutil.rmtree(services.indexer.texts.directory)
    with caplog.at_level(logging.WARNING, logger="kartoteka.indexer"):
        await services.indexer.rebuild()
    assert await extraction_status(services, document_id) == ("failed", "the file's bytes are missing from storage")
    [warning] = [r for r in caplog.records if r.message == "a document's text could not be read"]
    assert (warning.document_id, warning.status) == (document_id, "failed")


async def test_a_reindex_extracts_again_only_what_an_older_extractor_read(services, document_id, monkeypatch):
    await drain(services.indexer)
    sha256 = await version_sha256(services, document_id)
    asked = count_extractions(services.indexer, monkeypatch)
    write_as_older_extractors_did(services.indexer.texts, sha256, "tekst starego ekstraktora")
    await services.indexer.rebuild()
    assert asked == [], "plain text is still read by version 1: its cached text stays good"

    monkeypatch.setitem(EXTRACTOR_VERSIONS, "text", 2)
    await services.indexer.rebuild()
    assert asked == ["text/plain"]
    assert services.indexer.texts.read(sha256, extractor=2) is not None, "the new text is cached"

    write_as_older_extractors_did(services.indexer.texts, sha256, "tekst starego ekstraktora")
    await services.blobs.delete(sha256)
    await services.indexer.rebuild()
    assert await extraction_status(services, document_id) == ("ok", None), "the bytes are gone: the old text is kept"
