"""Where the indexer gets a document's text: the text cache, else the extraction worker."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dms.documents.models import DocumentVersion
from dms.indexing.texts import TextCache
from search.extraction import Extraction
from tests.conftest import drain

SHA = "ab" + "0" * 62


def test_a_cached_extraction_reads_back_as_it_was_written(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    extraction = Extraction("Zażółć gęślą jaźń", "ok", "text truncated to 17 characters", True)
    cache.write(SHA, extraction)
    assert cache.read(SHA) == extraction
    assert [path.name for path in (tmp_path / "texts" / "ab").iterdir()] == [f"{SHA}.json.gz"], "no temporary file left"


def test_a_timeout_is_not_cached_so_a_later_pass_tries_again(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    cache.write(SHA, Extraction("", "timeout", "extraction took longer than 60 s"))
    assert cache.read(SHA) is None


def test_a_damaged_cache_file_counts_as_missing(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "texts")
    cache.write(SHA, Extraction("tekst", "ok"))
    path = tmp_path / "texts" / "ab" / f"{SHA}.json.gz"
    path.write_bytes(path.read_bytes()[:10])
    assert cache.read(SHA) is None


def count_extractions(indexer: Any, monkeypatch: Any) -> list[str]:
    """The MIME types the extraction worker is asked to read, one per extraction."""
    asked: list[str] = []
    extract = indexer.extractor.extract

    def counted(source: Any, mime_type: str, **options: Any) -> Extraction:
        asked.append(mime_type)
        return extract(source, mime_type, **options)

    monkeypatch.setattr(indexer.extractor, "extract", counted)
    return asked


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


async def test_a_document_whose_bytes_are_gone_keeps_its_cached_text(services, document_id):
    await drain(services.indexer)
    async with services.db.sessions() as session:
        sha256 = (
            await session.execute(select(DocumentVersion.sha256).where(DocumentVersion.document_id == document_id))
        ).scalar_one()
    await services.blobs.delete(sha256)
    await services.indexer.rebuild()
    assert await extraction_status(services, document_id) == ("ok", None)

    shutil.rmtree(services.indexer.texts.directory)
    await services.indexer.rebuild()
    assert await extraction_status(services, document_id) == ("failed", "the file's bytes are missing from storage")
