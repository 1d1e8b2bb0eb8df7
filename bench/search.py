"""Indexing and search speed through Kartoteka vs a raw Whoosh index fed the same texts.

A deterministic corpus (``--docs``, 20,000 by default; ``--docs 2000`` for a quick run) of Polish
and English plain-text documents of ~300 words (diacritics, inflected forms, invoice numbers such
as FV/2026/0012) is written to a temporary directory. Then, in one run:

* indexing — ours: the documents are created through the domain services (as a non-admin user,
  in binders they created; a tenth belongs to another user), into a temporary SQLite database and
  file blob store; the time is that of the Indexer draining the outbox (extraction in its worker
  process, text cache, outbox, Whoosh index). Raw: a plain Whoosh index (an ID and a TEXT field
  with Whoosh's StandardAnalyzer) fed the same texts by one writer. Target ≥ 0.7× raw docs/s.
* search — ~50 queries (Polish words in inflected forms, the same without diacritics, English
  words, two words with AND, phrases, invoice numbers, rare words), each run ``--rounds`` times:
  ours through the GraphQL API in-process (httpx.ASGITransport, the non-admin user logged in, so
  the permission filter applies), and the search service directly (no HTTP); raw: Whoosh's
  QueryParser and ``searcher.search`` (top 20 and the total) on the raw index. Target: the
  service's p95 ≤ 1.5× raw p95; the HTTP/GraphQL overhead is reported separately.

Diagnostic rows (no target) split the indexing time (texts, index writes, the rest) and
show raw Whoosh committing every 50 documents (the indexer's batch) and with our analyzer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (
    BenchTimeout,
    Row,
    deadline,
    merge_results,
    percentile,
    print_table,
    ratio_text,
    target_text,
    temporary_directory,
)

PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway database
INDEX_TARGET = 0.7
SEARCH_TARGET = 1.5
PAGE = 20
FILE_CHUNK = 64 * 1024

SEARCH_QUERY = """
query ($q: String!, $first: Int!) {
  search(query: $q, first: $first) {
    totalCount
    edges { cursor node { score highlights document { id title } } }
  }
}
"""

# -- the corpus ------------------------------------------------------------------------------

# Lemma groups: each word appears in the text in any of its forms.
POLISH_GROUPS = [
    "faktura faktury fakturze fakturę fakturą faktur fakturami",
    "umowa umowy umowie umowę umową umów umowami",
    "kontrahent kontrahenta kontrahentowi kontrahencie kontrahenci kontrahentów",
    "płatność płatności płatnościami",
    "zamówienie zamówienia zamówieniu zamówień",
    "dostawa dostawy dostawie dostawę dostaw",
    "reklamacja reklamacji reklamację reklamacje",
    "należność należności",
    "przelew przelewu przelewem przelewy",
    "rachunek rachunku rachunki",
    "korekta korekty korekcie korektę",
    "termin terminu terminie terminy",
    "spółka spółki spółce spółkę spółek",
    "towar towaru towary towarów",
    "usługa usługi usłudze usług",
    "magazyn magazynu magazynie",
    "najem najmu najmie",
    "lokal lokalu lokale",
    "czynsz czynszu",
    "wynagrodzenie wynagrodzenia wynagrodzeniu",
    "pracownik pracownika pracownicy pracowników",
    "księgowość księgowości",
    "podatek podatku podatki",
    "kwota kwoty kwocie kwotę",
    "zapłata zapłaty zapłacie",
    "odbiorca odbiorcy odbiorcę",
    "sprzedawca sprzedawcy",
    "nabywca nabywcy",
    "oferta oferty ofercie ofertę",
    "zlecenie zlecenia zleceniu",
    "gwarancja gwarancji",
    "ubezpieczenie ubezpieczenia",
    "pismo pisma piśmie",
    "wniosek wniosku wnioski",
    "decyzja decyzji decyzję",
    "Kraków Krakowie Krakowa",
    "Warszawa Warszawie Warszawy",
    "Gdańsk Gdańsku",
    "Łódź Łodzi",
    "Wrocław Wrocławiu",
    "Poznań Poznaniu",
    "Rzeszów Rzeszowie",
    "pilny pilna pilne",
    "ważny ważna ważne",
    "miesięczny miesięczna miesięcznej",
    "zaległy zaległa zaległe",
    "korygująca korygującej",
    "handlowy handlowa handlowej",
    "wystawić wystawiono",
    "zapłacić zapłacono",
    "dostarczyć dostarczono",
    "podpisać podpisano",
    "przesłać przesłano",
    "potwierdzić potwierdzamy",
    "prosimy proszę uprzejmie",
    "informujemy informuję",
]
POLISH_FUNCTION = "i w na z do oraz się nie jest za od po dla że to o przez jako lub które który która".split()
ENGLISH_GROUPS = [
    "invoice invoices invoiced",
    "contract contracts",
    "payment payments paid",
    "delivery deliveries delivered",
    "order orders ordered",
    "customer customers",
    "supplier suppliers",
    "warehouse warehouses",
    "shipping shipment shipments",
    "agreement agreements",
    "amount amounts",
    "due overdue",
    "tax taxes",
    "net gross",
    "meeting meetings",
    "report reports reporting",
    "quarterly monthly",
    "complaint complaints",
    "refund refunds refunded",
    "lease leases",
    "rent rental",
    "employee employees",
    "salary salaries",
    "insurance",
    "warranty warranties",
    "offer offers",
    "request requests requested",
    "decision decisions",
    "account accounts",
    "balance",
    "reminder reminders",
    "terms",
    "signed attached",
    "confirm confirmed",
]
ENGLISH_FUNCTION = "the and of to in for with is on by this that as we please at from be are".split()
PHRASES_PL = ["umowa najmu", "termin płatności", "faktura korygująca", "zażółć gęślą jaźń", "warunki dostawy"]
PHRASES_EN = ["payment terms", "delivery date", "purchase order"]
SYLLABLES = (
    "prze sz cz ó ą ę ść ż ź ń ł kra wi dło mie nia rzy szcz go bą tę wy zy sko wość ny nej ach "
    "ko ma ra do bie le ści mo wa li ta ro zo ku pa"
).split()
TAIL_WORDS = 6000


@dataclass
class Vocabulary:
    polish: list[list[str]]
    english: list[list[str]]
    tail: list[str]

    @classmethod
    def build(cls, rng: random.Random) -> Vocabulary:
        tail: dict[str, None] = {}
        while len(tail) < TAIL_WORDS:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if len(word) >= 5:
                tail[word] = None
        return cls(
            polish=[group.split() for group in POLISH_GROUPS],
            english=[group.split() for group in ENGLISH_GROUPS],
            tail=list(tail),
        )


def _zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    weights = [1.0 / (rank + 1) ** exponent for rank in range(count)]
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


@dataclass
class Document:
    title: str
    text: str
    invoice_numbers: list[str]


@dataclass
class CorpusWriter:
    """Deterministic documents from one seed: same seed, same corpus."""

    seed: int
    vocabulary: Vocabulary = field(init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.vocabulary = Vocabulary.build(self.rng)
        self._pl = _zipf_weights(len(self.vocabulary.polish), 0.9)
        self._en = _zipf_weights(len(self.vocabulary.english), 0.9)
        self._tail = _zipf_weights(len(self.vocabulary.tail), 1.05)

    def _invoice(self) -> str:
        return f"FV/2026/{self.rng.randint(1, 9999):04d}"

    def _special(self, numbers: list[str]) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.35:
            number = self._invoice()
            numbers.append(number)
            return number
        if kind < 0.6:
            return f"{rng.randint(1, 99)} {rng.randint(0, 999):03d},{rng.randint(0, 99):02d} zł"
        if kind < 0.8:
            return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"

    def _word(self, language: str, numbers: list[str]) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.38:
            return rng.choice(POLISH_FUNCTION if language == "pl" else ENGLISH_FUNCTION)
        if roll < 0.80:
            if language == "pl":
                group = rng.choices(self.vocabulary.polish, cum_weights=self._pl)[0]
            else:
                group = rng.choices(self.vocabulary.english, cum_weights=self._en)[0]
            return rng.choice(group)
        if roll < 0.97:
            return rng.choices(self.vocabulary.tail, cum_weights=self._tail)[0]
        return self._special(numbers)

    def document(self) -> Document:
        rng = self.rng
        roll = rng.random()
        mode = "pl" if roll < 0.55 else "en" if roll < 0.85 else "mixed"
        numbers = [self._invoice()]
        sentences: list[str] = []
        words = 0
        goal = rng.randint(270, 330)
        while words < goal:
            language = mode if mode != "mixed" else rng.choice(("pl", "en"))
            sentence = [self._word(language, numbers) for _ in range(rng.randint(8, 16))]
            if rng.random() < 0.15:
                phrase = rng.choice(PHRASES_PL if language == "pl" else PHRASES_EN)
                sentence.insert(rng.randrange(len(sentence) + 1), phrase)
            words += sum(len(part.split()) for part in sentence)
            text = " ".join(sentence)
            sentences.append(text[:1].upper() + text[1:] + ".")
        kind = rng.choice(
            ["Faktura", "Umowa", "Zamówienie", "Reklamacja", "Pismo"]
            if mode != "en"
            else ["Invoice", "Contract", "Order", "Complaint", "Letter"]
        )
        title = f"{kind} {numbers[0]}"
        body = f"{title}\n\n" + "\n".join(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))
        return Document(title=title, text=body + "\n", invoice_numbers=numbers)


@dataclass
class Corpus:
    paths: list[Path]
    titles: list[str]
    invoice_numbers: list[str]
    tail: list[str]

    @classmethod
    def write(cls, directory: Path, count: int, seed: int) -> Corpus:
        directory.mkdir(parents=True, exist_ok=True)
        writer = CorpusWriter(seed)
        paths, titles, numbers = [], [], []
        for i in range(count):
            document = writer.document()
            path = directory / f"doc-{i:05d}.txt"
            path.write_text(document.text, encoding="utf-8")
            paths.append(path)
            titles.append(document.title)
            numbers.extend(document.invoice_numbers)
        return cls(paths, titles, numbers, writer.vocabulary.tail)


def make_queries(corpus: Corpus, seed: int) -> list[tuple[str, str]]:
    """About 50 (kind, query) pairs, the same for ours and raw."""
    rng = random.Random(seed + 1)
    queries = [
        *(
            ("polish", q)
            for q in (
                "faktury umowie kontrahenta płatności zamówienia dostawy reklamacji przelewu spółce magazynie"
                " wynagrodzenia Krakowie"
            ).split()
        ),
        *(("folded", q) for q in "platnosci zamowienia ksiegowosci spolki naleznosci lodzi zazolc wroclawiu".split()),
        *(("english", q) for q in "invoices delivery payment contracts warehouse overdue refund quarterly".split()),
        *(
            ("and", q)
            for q in (
                "faktura AND przelew",
                "umowa AND najem",
                "kontrahent AND reklamacja",
                "invoice AND payment",
                "dostawa AND magazyn",
                "termin AND płatność",
                "spółka AND podatek",
                "order AND delivery",
                "oferta AND zlecenie",
                "Warszawa AND czynsz",
            )
        ),
        *(
            ("phrase", f'"{q}"')
            for q in (
                "umowa najmu",
                "termin płatności",
                "faktura korygująca",
                "payment terms",
                "delivery date",
                "zażółć gęślą jaźń",
            )
        ),
    ]
    numbers = sorted(set(corpus.invoice_numbers))
    queries += [("number", number) for number in rng.sample(numbers, min(4, len(numbers)))]
    # Rare words: far down the Zipf tail, so they occur in a handful of documents.
    queries += [("rare", corpus.tail[index]) for index in (900, 2500)]
    return queries


# -- ours: services, indexer, GraphQL ----------------------------------------------------------


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(FILE_CHUNK):
            yield chunk


@dataclass
class Stopwatch:
    """Wall-clock time during which at least one wrapped awaitable was running.

    Calls that overlap (the indexer fetches several texts at once) count once, so the figures of
    different stopwatches can be subtracted from one another.
    """

    seconds: float = 0.0
    calls: int = 0
    samples: list[float] = field(default_factory=list)
    _running: int = 0
    _since: float = 0.0

    def wrap(self, function: Callable[..., Awaitable[Any]], *, keep: bool = False) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            if not self._running:
                self._since = start
            self._running += 1
            try:
                return await function(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self._running -= 1
                if not self._running:
                    self.seconds += end - self._since
                self.calls += 1
                if keep:
                    self.samples.append(end - start)

        return timed


@dataclass
class Ours:
    settings: Any
    services: Any
    indexer: Any
    reader: Any  # the non-admin actor who searches
    created_seconds: float = 0.0


async def build_ours(directory: Path, corpus: Corpus) -> Ours:
    from dms.actor import SYSTEM, Actor
    from dms.binders import service as binders
    from dms.documents import service as documents
    from dms.documents.uploads import IncomingFile
    from dms.identity import service as identity
    from dms.migrate import upgrade_sync
    from dms.uow import unit_of_work
    from kartoteka.app import build_search, build_services
    from kartoteka.settings import Settings

    settings = Settings(
        data_dir=directory,
        secret_key="bench-secret-key-not-for-production",  # noqa: S106 - a throwaway database
        log_level="WARNING",
        login_max_failures=1000,
    )
    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_sync, settings.resolved_database_url)
    services = build_services(settings)
    indexer = build_search(settings, services, writer=True)
    # The empty index exists before any document, so the outbox alone feeds it (no rebuild).
    await indexer.heal_if_needed()

    actors: dict[str, Actor] = {}
    async with services.db.sessions() as session:
        for name in ("alice", "bob"):
            user = await identity.create_user(session, SYSTEM, name, password=PASSWORD)
            actors[name] = Actor(user_id=user.id, username=name)
        await session.commit()
    binder_ids: dict[str, list[int]] = {"alice": [], "bob": []}
    for name, count in (("alice", 8), ("bob", 2)):
        for i in range(count):
            async with unit_of_work(services.db, services.blobs, write=True) as uow:
                binder = await binders.create_binder(uow.session, actors[name], f"{name} binder {i}")
                await uow.commit()
                binder_ids[name].append(binder.id)

    start = time.perf_counter()
    for i, path in enumerate(corpus.paths):
        # A tenth of the archive is bob's, which alice may not read: the filter has work to do.
        owner = "bob" if i % 10 == 9 else "alice"
        binder_id = binder_ids[owner][i % len(binder_ids[owner])]
        async with unit_of_work(services.db, services.blobs, write=True) as uow:
            await documents.create_document(
                uow,
                actors[owner],
                binder_id=binder_id,
                details=documents.DocumentDetails(title=corpus.titles[i]),
                source=IncomingFile(path.name, file_chunks(path)),
                max_upload_bytes=settings.max_upload_bytes,
            )
            await uow.commit()
        if (i + 1) % 2000 == 0:
            print(f"  created {i + 1} documents", flush=True)
    created = time.perf_counter() - start
    return Ours(settings, services, indexer, actors["alice"], created)


@dataclass
class IndexingFigures:
    documents: int
    seconds: float
    texts_seconds: float
    records_seconds: float
    index_seconds: float
    #: Time during which texts were being prepared or the index written (or both).
    busy_seconds: float
    settling_seconds: float

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds


async def drain_timed(ours: Ours) -> IndexingFigures:
    indexer = ours.indexer
    texts, records, index, busy = Stopwatch(), Stopwatch(), Stopwatch(), Stopwatch()
    indexer._text_of = texts.wrap(indexer._text_of)
    indexer.records = busy.wrap(records.wrap(indexer.records))
    indexer.engine.upsert = busy.wrap(index.wrap(indexer.engine.upsert))
    indexed = 0
    start = time.perf_counter()
    # As the running indexer drains: each batch's texts prepared while the previous batch is written.
    while (report := await indexer.drain()).entries:
        indexed += report.indexed
    seconds = time.perf_counter() - start
    del indexer.__dict__["_text_of"]
    del indexer.__dict__["records"]
    del indexer.engine.__dict__["upsert"]
    # Background merges started during the drain finish while the indexer is idle (as it settles
    # between polls); searching is measured after them, and their time is reported on its own.
    start = time.perf_counter()
    while True:
        if not (await indexer.engine.settle() or _merging(ours)):
            break
        await asyncio.sleep(0.2)  # polling another process, as the indexer does
    settling = time.perf_counter() - start
    return IndexingFigures(indexed, seconds, texts.seconds, records.seconds, index.seconds, busy.seconds, settling)


def _merging(ours: Ours) -> bool:
    from search import whoosh_parallel

    engine = ours.services.search.engine
    return whoosh_parallel.merging(engine._live_index()[1])


@dataclass
class Latencies:
    graphql: list[float] = field(default_factory=list)
    service: list[float] = field(default_factory=list)
    engine: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    raw_totals: dict[str, int] = field(default_factory=dict)
    our_totals: dict[str, int] = field(default_factory=dict)


async def graphql_login(http: httpx.AsyncClient, username: str) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": "mutation($u: String!, $p: String!)"
            " { login(input: {username: $u, password: $p}) { token userErrors { code } } }",
            "variables": {"u": username, "p": PASSWORD},
        },
    )
    token = response.json()["data"]["login"]["token"]
    if not token:
        raise RuntimeError(f"login refused: {response.text}")
    return str(token)


async def graphql_search(http: httpx.AsyncClient, token: str, text: str) -> int:
    response = await http.post(
        "/graphql",
        json={"query": SEARCH_QUERY, "variables": {"q": text, "first": PAGE}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"search {text!r} failed ({response.status_code}): {body}")
    return int(body["data"]["search"]["totalCount"])


class RawSearcher:
    def __init__(self, directory: Path) -> None:
        from whoosh import index
        from whoosh.qparser import QueryParser

        self.index = index.open_dir(str(directory))
        self.searcher = self.index.searcher()
        self.parser = QueryParser("content", self.index.schema)

    def search(self, text: str) -> int:
        query = self.parser.parse(text)
        results = self.searcher.search(query, limit=PAGE)
        _ids = [hit["id"] for hit in results]
        return len(results)

    def close(self) -> None:
        self.searcher.close()


async def measure_search(ours: Ours, raw: RawSearcher, queries: Sequence[tuple[str, str]], rounds: int) -> Latencies:
    from dms.search import SearchOptions, search_documents
    from kartoteka.app import create_app

    services = ours.services
    app = create_app(ours.settings, services=services)
    engine_watch = Stopwatch()
    plain_search = services.search.search
    timed_search = engine_watch.wrap(plain_search, keep=True)
    latencies = Latencies()

    async def service_search(text: str) -> int:
        async with services.db.sessions() as session:
            page = await search_documents(
                session, services.search, ours.reader, text, options=SearchOptions(), first=PAGE, after=None
            )
        return page.total

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://kartoteka.bench") as http:
        token = await graphql_login(http, ours.reader.username)
        for _kind, text in queries:  # warm-up: searchers open, caches fill, code paths compile
            await graphql_search(http, token, text)
            await service_search(text)
            raw.search(text)
        for _ in range(rounds):
            for kind, text in queries:
                latencies.kinds.append(kind)
                start = time.perf_counter()
                latencies.our_totals[text] = await graphql_search(http, token, text)
                latencies.graphql.append(time.perf_counter() - start)

                services.search.search = timed_search
                start = time.perf_counter()
                await service_search(text)
                latencies.service.append(time.perf_counter() - start)
                services.search.search = plain_search

                start = time.perf_counter()
                latencies.raw_totals[text] = raw.search(text)
                latencies.raw.append(time.perf_counter() - start)
    latencies.engine = engine_watch.samples
    return latencies


# -- raw: Whoosh on its own ------------------------------------------------------------------


def raw_index(directory: Path, paths: Sequence[Path], *, analyzer: Any = None, commit_every: int = 0) -> float:
    """Seconds to index `paths` into a fresh plain Whoosh index (one writer, or one per batch)."""
    from whoosh import fields, index
    from whoosh.analysis import StandardAnalyzer

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        content=fields.TEXT(analyzer=analyzer or StandardAnalyzer(), phrase=True),
    )
    directory.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(directory), schema)
    start = time.perf_counter()
    writer = ix.writer()
    for i, path in enumerate(paths):
        writer.add_document(id=str(i), content=path.read_text(encoding="utf-8"))
        if commit_every and (i + 1) % commit_every == 0:
            writer.commit()
            writer = ix.writer()
    writer.commit()
    seconds = time.perf_counter() - start
    ix.close()
    return seconds


# -- the run ---------------------------------------------------------------------------------


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": percentile(values, 0.5) * 1000, "p95_ms": percentile(values, 0.95) * 1000}


def by_kind(latencies: Latencies) -> dict[str, dict[str, float]]:
    """Median latency per kind of query: which kinds cost what, ours against raw."""
    kinds: dict[str, dict[str, list[float]]] = {}
    for i, kind in enumerate(latencies.kinds):
        samples = kinds.setdefault(kind, {"service": [], "engine": [], "raw": []})
        samples["service"].append(latencies.service[i])
        samples["engine"].append(latencies.engine[i])
        samples["raw"].append(latencies.raw[i])
    return {
        kind: {f"{name}_p50_ms": percentile(values, 0.5) * 1000 for name, values in samples.items()}
        for kind, samples in sorted(kinds.items())
    }


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from search.whoosh_engine import KartotekaTokenizer

    timings: dict[str, float] = {}
    started = time.perf_counter()
    print(f"writing {args.docs} documents…", flush=True)
    corpus = Corpus.write(tmp / "corpus", args.docs, args.seed)
    words = sum(len(path.read_text(encoding="utf-8").split()) for path in corpus.paths[:200])
    queries = make_queries(corpus, args.seed)

    print("raw Whoosh: indexing…", flush=True)
    raw_seconds = raw_index(tmp / "raw-index", corpus.paths)
    raw_batched_seconds = raw_index(tmp / "raw-batched", corpus.paths, commit_every=50)
    raw_our_analyzer_seconds = raw_index(tmp / "raw-analyzer", corpus.paths, analyzer=KartotekaTokenizer())

    print("ours: creating the documents through the services…", flush=True)
    ours = await build_ours(tmp / "data", corpus)
    try:
        print(f"  created in {ours.created_seconds:.1f} s; draining the outbox…", flush=True)
        indexing = await drain_timed(ours)
        if indexing.documents != args.docs:
            raise RuntimeError(f"the indexer indexed {indexing.documents} documents of {args.docs}")
        print(f"  indexed in {indexing.seconds:.1f} s; searching…", flush=True)
        raw = RawSearcher(tmp / "raw-index")
        try:
            latencies = await measure_search(ours, raw, queries, args.rounds)
        finally:
            raw.close()
    finally:
        ours.indexer.extractor.close()
        await ours.services.search.close()
        await ours.services.blobs.close()
        await ours.services.db.engine.dispose()
    timings["total_seconds"] = time.perf_counter() - started

    raw_rate = args.docs / raw_seconds
    graphql, service, engine, raw_lat = (
        summary(latencies.graphql),
        summary(latencies.service),
        summary(latencies.engine),
        summary(latencies.raw),
    )
    return {
        "documents": args.docs,
        "words_per_document": words / min(200, len(corpus.paths)),
        "queries": len(queries),
        "rounds": args.rounds,
        "indexing": {
            "ours_docs_per_s": indexing.docs_per_second,
            "ours_seconds": indexing.seconds,
            "ours_texts_seconds": indexing.texts_seconds,
            "ours_status_seconds": indexing.records_seconds - indexing.texts_seconds,
            "ours_index_write_seconds": indexing.index_seconds,
            "ours_other_seconds": indexing.seconds - indexing.busy_seconds,
            "ours_overlap_seconds": indexing.records_seconds + indexing.index_seconds - indexing.busy_seconds,
            "ours_settling_seconds": indexing.settling_seconds,
            "ours_docs_per_s_until_merged": indexing.documents / (indexing.seconds + indexing.settling_seconds),
            "raw_docs_per_s": raw_rate,
            "raw_seconds": raw_seconds,
            "raw_commit_every_50_docs_per_s": args.docs / raw_batched_seconds,
            "raw_our_analyzer_docs_per_s": args.docs / raw_our_analyzer_seconds,
            "ratio": indexing.docs_per_second / raw_rate,
            "creating_documents_seconds": ours.created_seconds,
        },
        "search": {
            "graphql": graphql,
            "service": service,
            "engine": engine,
            "raw": raw_lat,
            "http_overhead_ms": {
                "p50": graphql["p50_ms"] - service["p50_ms"],
                "p95": graphql["p95_ms"] - service["p95_ms"],
            },
            "service_p95_ratio": service["p95_ms"] / raw_lat["p95_ms"],
            "graphql_p95_ratio": graphql["p95_ms"] / raw_lat["p95_ms"],
            "mean_total_hits_ours": sum(latencies.our_totals.values()) / len(latencies.our_totals),
            "mean_total_hits_raw": sum(latencies.raw_totals.values()) / len(latencies.raw_totals),
            "p50_by_kind": by_kind(latencies),
        },
        "targets": {"indexing_ratio": INDEX_TARGET, "search_p95_ratio": SEARCH_TARGET},
        **timings,
    }


def report(figures: dict[str, Any]) -> None:
    indexing, search = figures["indexing"], figures["search"]
    ms = "{:.1f} ms".format

    def split(name: str) -> str:
        return f"{indexing[name]:.1f} s"

    rows = [
        Row(
            "indexing docs/s (extraction + outbox + index)",
            f"{indexing['ours_docs_per_s']:.0f}",
            f"{indexing['raw_docs_per_s']:.0f}",
            ratio_text(indexing["ratio"]),
            target_text(f"≥ {INDEX_TARGET:.2f}×", indexing["ratio"] >= INDEX_TARGET),
        ),
        Row("  of which texts (text cache, else extraction)", split("ours_texts_seconds")),
        Row("  of which extraction status updates, the rest", split("ours_status_seconds")),
        Row("  of which index writes", split("ours_index_write_seconds")),
        Row("  of which outbox + SQL", split("ours_other_seconds")),
        Row("  texts prepared while the index was written", split("ours_overlap_seconds")),
        Row(
            "  docs/s until background merges are done too",
            f"{indexing['ours_docs_per_s_until_merged']:.0f}",
            f"{indexing['raw_docs_per_s']:.0f}",
            ratio_text(indexing["ours_docs_per_s_until_merged"] / indexing["raw_docs_per_s"]),
        ),
        Row("  background merges after the drain", split("ours_settling_seconds")),
        Row("  raw Whoosh committing every 50 docs, docs/s", "", f"{indexing['raw_commit_every_50_docs_per_s']:.0f}"),
        Row("  raw Whoosh with our analyzer, docs/s", "", f"{indexing['raw_our_analyzer_docs_per_s']:.0f}"),
        Row(
            "search p50 (service, permission filter)",
            ms(search["service"]["p50_ms"]),
            ms(search["raw"]["p50_ms"]),
            ratio_text(search["service"]["p50_ms"] / search["raw"]["p50_ms"]),
        ),
        Row(
            "search p95 (service, permission filter)",
            ms(search["service"]["p95_ms"]),
            ms(search["raw"]["p95_ms"]),
            ratio_text(search["service_p95_ratio"]),
            target_text(f"≤ {SEARCH_TARGET:.2f}×", search["service_p95_ratio"] <= SEARCH_TARGET),
        ),
        Row(
            "search p50 through GraphQL",
            ms(search["graphql"]["p50_ms"]),
            ms(search["raw"]["p50_ms"]),
            ratio_text(search["graphql"]["p50_ms"] / search["raw"]["p50_ms"]),
        ),
        Row(
            "search p95 through GraphQL",
            ms(search["graphql"]["p95_ms"]),
            ms(search["raw"]["p95_ms"]),
            ratio_text(search["graphql_p95_ratio"]),
        ),
        Row(
            "HTTP + GraphQL overhead p50 / p95",
            f"{search['http_overhead_ms']['p50']:.1f} / {search['http_overhead_ms']['p95']:.1f} ms",
            target="reported separately",
        ),
        Row(
            "  of the service: Whoosh engine p50 / p95",
            f"{search['engine']['p50_ms']:.1f} / {search['engine']['p95_ms']:.1f} ms",
        ),
        Row(
            "mean total hits per query",
            f"{search['mean_total_hits_ours']:.0f}",
            f"{search['mean_total_hits_raw']:.0f}",
        ),
    ]
    print_table(
        f"search: {figures['documents']} documents (~{figures['words_per_document']:.0f} words),"
        f" {figures['queries']} queries × {figures['rounds']} rounds"
        " (raw = plain Whoosh, StandardAnalyzer, QueryParser, top 20 + total)",
        rows,
    )
    print("median latency by kind of query (service / Whoosh engine inside it / raw):")
    for kind, p50 in search["p50_by_kind"].items():
        print(f"  {kind:8} {p50['service_p50_ms']:7.1f} / {p50['engine_p50_ms']:7.1f} / {p50['raw_p50_ms']:6.1f} ms")
    print(
        f"creating the documents through the services took {indexing['creating_documents_seconds']:.1f} s"
        f" (not measured against anything); the whole run {figures['total_seconds']:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000, help="documents in the corpus (default 20000)")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="corpus seed")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="give up after this many seconds")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results.json")
    parser.add_argument("--quick", action="store_true", help="a small run (200 documents) to check the script works")
    args = parser.parse_args(argv)
    if args.quick:
        args.docs, args.rounds = min(args.docs, 200), 1
    if args.docs < 10:
        parser.error("--docs must be at least 10")
    logging.basicConfig(level=logging.WARNING)
    try:
        with deadline(args.timeout), temporary_directory("kt-bench-search-") as tmp:
            figures = asyncio.run(run(args, tmp))
    except BenchTimeout as exc:
        print(f"search: {exc}", file=sys.stderr)
        return 1
    report(figures)
    if not args.no_save:
        print(f"figures saved in {merge_results('search', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
