from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from search.engine import IndexRebuild, SearchEngine, open_engine, rebuilding
from search.errors import IndexRebuilding, IndexUnavailable, SearchError
from search.records import IndexRecord
from search.service import AsyncSearchEngine
from tests.search.conftest import find, ids, record

Build = Callable[[Iterable[IndexRecord]], SearchEngine]


def live_generation(root: Path) -> Path:
    return root / (root / "CURRENT").read_text().strip()


class TestWriting:
    def test_upsert_of_an_existing_id_replaces_the_document(self, build: Build) -> None:
        engine = build([record(1, "Faktura", "stara treść"), record(2, "Umowa", "umowa")])
        engine.upsert([record(1, "Faktura korygująca", "nowa treść")])
        assert engine.count() == 2
        assert ids(find(engine, "stara")) == set()
        assert ids(find(engine, "nowa")) == {1}

    def test_reapplying_the_same_upsert_is_harmless(self, build: Build) -> None:
        engine = build([])
        for _ in range(3):
            engine.upsert([record(1, "Faktura", "treść")])
        assert engine.count() == 1
        assert find(engine, "faktura").total == 1

    def test_a_repeated_id_within_one_batch_keeps_the_last_record(self, build: Build) -> None:
        engine = build([])
        engine.upsert([record(5, "Pierwsza", "alfa"), record(5, "Druga", "beta")])
        assert engine.count() == 1
        assert ids(find(engine, "beta")) == {5} and ids(find(engine, "alfa")) == set()

    def test_delete_removes_documents_and_ignores_unknown_ids(self, build: Build) -> None:
        engine = build([record(1, "Faktura"), record(2, "Faktura"), record(3, "Umowa")])
        assert engine.delete([1, 42]) == 2
        assert engine.document_ids() == {2, 3}
        assert ids(find(engine, "faktura")) == {2}

    def test_large_upserts_are_committed_in_batches(self, build: Build) -> None:
        engine = build([])
        engine.upsert(record(i, f"Dokument {i}", "faktura") for i in range(1, 2_502))
        assert engine.count() == 2_501
        assert find(engine, "faktura", limit=1).total == 2_501

    def test_document_ids_lists_every_live_document(self, build: Build) -> None:
        engine = build([record(i, "x") for i in (3, 7, 11)])
        assert engine.document_ids() == {3, 7, 11}


class TestHealth:
    def test_a_missing_index_needs_a_rebuild_and_refuses_searches(self, engine: SearchEngine) -> None:
        assert engine.needs_rebuild() and not engine.is_healthy()
        with pytest.raises(IndexUnavailable):
            find(engine, "faktura")
        with pytest.raises(IndexUnavailable):
            engine.upsert([record(1, "x")])

    def test_a_fresh_build_is_healthy(self, build: Build) -> None:
        engine = build([record(1, "Faktura")])
        assert engine.is_healthy() and not engine.needs_rebuild()

    def test_an_index_stamped_with_an_older_schema_needs_a_rebuild(self, build: Build, tmp_path: Path) -> None:
        engine = build([record(1, "Faktura")])
        stamp_file = live_generation(tmp_path / "index") / "kartoteka-index.json"
        stamp = json.loads(stamp_file.read_text())
        stamp["schema_version"] = engine.schema_version - 1
        stamp_file.write_text(json.dumps(stamp))
        assert engine.needs_rebuild()
        answers, note = engine.health()
        assert answers and "another version" in str(note)
        # It keeps answering until the rebuild is done, but takes no writes in the old format.
        assert ids(find(engine, "faktura")) == {1}
        with pytest.raises(IndexRebuilding):
            engine.upsert([record(2, "Umowa")])

    def test_a_corrupt_index_needs_a_rebuild(self, build: Build, tmp_path: Path) -> None:
        engine = build([record(1, "Faktura", "treść " * 100)])
        engine.close()
        for path in live_generation(tmp_path / "index").iterdir():
            if path.suffix in (".toc", ".seg"):
                path.write_bytes(b"\x00garbage" * 10)
        reopened = open_engine(tmp_path / "index")
        assert reopened.needs_rebuild()
        with pytest.raises(IndexUnavailable):
            find(reopened, "faktura")
        with rebuilding(reopened) as rebuild:
            rebuild.upsert([record(1, "Faktura")])
        assert reopened.is_healthy()
        assert ids(find(reopened, "faktura")) == {1}
        reopened.close()

    def test_a_current_pointer_to_nowhere_needs_a_rebuild(self, build: Build, tmp_path: Path) -> None:
        engine = build([record(1, "Faktura")])
        (tmp_path / "index" / "CURRENT").write_text("gen-gone\n")
        assert engine.needs_rebuild()
        (tmp_path / "index" / "CURRENT").write_text("../../etc\n")
        assert engine.needs_rebuild()


class TestRebuild:
    def test_searches_answer_from_the_old_index_until_the_swap(self, build: Build) -> None:
        engine = build([record(1, "Stara faktura")])
        rebuild = engine.begin_rebuild()
        rebuild.upsert([record(2, "Nowa umowa")])
        assert ids(find(engine, "faktura")) == {1}
        assert ids(find(engine, "umowa")) == set()
        rebuild.swap()
        assert ids(find(engine, "faktura")) == set()
        assert ids(find(engine, "umowa")) == {2}
        assert engine.document_ids() == {2}

    def test_an_aborted_rebuild_leaves_the_live_index_alone(self, build: Build, tmp_path: Path) -> None:
        engine = build([record(1, "Faktura")])
        with pytest.raises(RuntimeError), rebuilding(engine) as rebuild:
            rebuild.upsert([record(2, "Umowa")])
            raise RuntimeError("the database went away")
        assert engine.document_ids() == {1}
        assert not list((tmp_path / "index").glob("building-*"))

    def test_only_one_rebuild_runs_at_a_time(self, build: Build) -> None:
        engine = build([])
        rebuild = engine.begin_rebuild()
        with pytest.raises(SearchError):
            engine.begin_rebuild()
        rebuild.abort()
        engine.begin_rebuild().abort()

    def test_a_first_build_reports_rebuilding_until_swapped(self, engine: SearchEngine) -> None:
        rebuild = engine.begin_rebuild()
        assert isinstance(rebuild, IndexRebuild)
        with pytest.raises(IndexRebuilding):
            find(engine, "faktura")
        rebuild.swap()
        assert find(engine, "faktura").total == 0

    def test_old_generations_are_cleaned_up(self, build: Build, tmp_path: Path) -> None:
        for round_ in range(4):
            build([record(round_, "Faktura")])
        generations = list((tmp_path / "index").glob("gen-*"))
        assert len(generations) <= 2
        assert live_generation(tmp_path / "index") in generations

    def test_leftovers_of_a_crashed_rebuild_are_removed(self, build: Build, tmp_path: Path) -> None:
        (tmp_path / "index" / "building-crashed").mkdir()  # the engine fixture made the directory
        build([record(1, "Faktura")])
        assert not (tmp_path / "index" / "building-crashed").exists()


class TestReaders:
    def test_a_read_only_engine_sees_commits_of_the_writer(self, build: Build, tmp_path: Path) -> None:
        writer = build([record(1, "Faktura")])
        reader = open_engine(tmp_path / "index", writable=False)
        assert ids(find(reader, "faktura")) == {1}
        writer.upsert([record(2, "Faktura druga")])
        assert ids(find(reader, "faktura")) == {1, 2}
        with pytest.raises(IndexUnavailable):
            reader.upsert([record(3, "x")])
        with pytest.raises(IndexUnavailable):
            reader.begin_rebuild()
        reader.close()

    def test_a_reader_follows_a_swap(self, build: Build, tmp_path: Path) -> None:
        writer = build([record(1, "Faktura")])
        reader = open_engine(tmp_path / "index", writable=False)
        assert ids(find(reader, "faktura")) == {1}
        with rebuilding(writer) as rebuild:
            rebuild.upsert([record(2, "Faktura nowa")])
        assert ids(find(reader, "faktura")) == {2}
        reader.close()

    def test_concurrent_searches_from_many_threads(self, build: Build) -> None:
        engine = build([record(i, f"Faktura {i}", "faktura umowa") for i in range(1, 51)])
        errors: list[BaseException] = []

        def search() -> None:
            try:
                for _ in range(20):
                    assert find(engine, "faktura", limit=5).total == 50
            except BaseException as error:  # collected for the main thread
                errors.append(error)

        threads = [threading.Thread(target=search) for _ in range(8)]
        for thread in threads:
            thread.start()
        engine.upsert([record(100, "Umowa")])
        for thread in threads:
            thread.join()
        assert errors == []

    def test_closed_engine_refuses_searches(self, build: Build) -> None:
        engine = build([record(1, "Faktura")])
        engine.close()
        with pytest.raises(IndexUnavailable):
            find(engine, "faktura")


async def test_async_facade_runs_the_engine_off_the_event_loop(build: Build) -> None:
    service = AsyncSearchEngine(build([record(1, "Faktura")]))
    assert await service.needs_rebuild() is False
    await service.upsert([record(2, "Faktura korygująca")])
    from search.query import parse_query
    from search.records import AccessFilter, SearchRequest

    result = await service.search(SearchRequest(query=parse_query("faktury"), access=AccessFilter.everything()))
    assert {hit.document_id for hit in result.hits} == {1, 2}
    assert await service.count() == 2
    await service.delete([1])
    assert await service.document_ids() == {2}
    rebuild = await service.begin_rebuild()
    await rebuild.upsert([record(3, "Umowa")])
    await rebuild.swap()
    assert await service.document_ids() == {3}
    await service.close()


def test_an_interrupted_rebuild_resumes_after_its_last_committed_document(engine):
    from tests.search.conftest import find, ids, record

    first = engine.begin_rebuild()
    first.upsert([record(1, "Umowa pierwsza"), record(2, "Umowa druga")])
    engine._forget_rebuild(first)  # the process died here: no swap, no abort
    resumed = engine.begin_rebuild(resume=True)
    assert resumed.resumed_after() == 2
    resumed.upsert([record(3, "Umowa trzecia")])
    resumed.swap()
    assert ids(find(engine, "umowa")) == {1, 2, 3}


def test_without_resume_an_interrupted_rebuild_is_discarded(engine):
    first = engine.begin_rebuild()
    from tests.search.conftest import record

    first.upsert([record(1, "Umowa")])
    engine._forget_rebuild(first)
    fresh = engine.begin_rebuild()
    assert fresh.resumed_after() == 0
    fresh.abort()
