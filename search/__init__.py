"""Full-text search: text extraction, Polish/English analysis, and the index behind one interface.

Nothing here imports the domain; it works on plain records (`search.records`)
and byte streams.  Entry points: `search.query.parse_query`,
`search.engine.open_engine` (and `search.service.AsyncSearchEngine`),
`search.extraction.Extractor` / `extract_text`; counterparty cards and events
are searched through `search.directory`.  Only the `search.whoosh_*` modules
import Whoosh.
"""
