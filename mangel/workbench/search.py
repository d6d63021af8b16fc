"""The inbox's full-text search, with the same German results on both databases.

PostgreSQL matches German word stems (``to_tsvector('german', …)``, GIN index
``ix_report_search``) with the web search syntax.  SQLite reads an FTS5 index
``report_fts`` over description and street, umlauts folded, kept in step with ``report``
by triggers; each searched word is cut to a rough German stem and matched as a prefix, so
"Schlagloch" finds "Schlaglöcher" and "Laternen" finds "Laterne".  Both understand
``"…"`` for a phrase, ``-wort`` to exclude a word and ``or`` between words.

Category names are matched too, the same on both databases: a searched word that begins a
word of a category's name (or its main category's) selects that category's reports, and
the other words must then match the text, so "Schlagloch Hauptstraße" finds the pothole
reports in Hauptstraße whatever their description says.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (
    DDL,
    and_,
    bindparam,
    column,
    event,
    false,
    func,
    not_,
    or_,
    select,
    text,
    true,
)

from lotse.extensions import db
from mangel.models import GERMAN, REPORT_SEARCH_VECTOR, Category, Report

# The FTS5 index, its triggers, and filling it from the reports already there.  The same
# statements serve ``create_all`` (tests, benchmarks) and the migration.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS report_fts USING fts5(description, street, "
    "content='report', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS report_fts_insert AFTER INSERT ON report BEGIN "
    "INSERT INTO report_fts(rowid, description, street) "
    "VALUES (new.id, new.description, new.street); END",
    "CREATE TRIGGER IF NOT EXISTS report_fts_delete AFTER DELETE ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, description, street) "
    "VALUES ('delete', old.id, old.description, old.street); END",
    "CREATE TRIGGER IF NOT EXISTS report_fts_update AFTER UPDATE OF description, street "
    "ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, description, street) "
    "VALUES ('delete', old.id, old.description, old.street); "
    "INSERT INTO report_fts(rowid, description, street) "
    "VALUES (new.id, new.description, new.street); END",
    "INSERT INTO report_fts(report_fts) VALUES ('rebuild')",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS report_fts_update",
    "DROP TRIGGER IF EXISTS report_fts_delete",
    "DROP TRIGGER IF EXISTS report_fts_insert",
    "DROP TABLE IF EXISTS report_fts",
]
for _statement in SQLITE_FTS:
    event.listen(Report.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_FTS_DROP:
    event.listen(Report.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))

# Endings of German inflection, longest first; a stem keeps at least four letters.
ENDINGS = ("ern", "em", "en", "er", "es", "e", "n", "s")
TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
WORD = re.compile(r"\w+")


def fold(word: str) -> str:
    """Lower case without diacritics, as the FTS5 tokenizer stores words."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A rough German stem: the word without one inflection ending."""
    word = fold(word)
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def fts_query(q: str) -> str | None:
    """The web search syntax as an FTS5 query, or ``None`` when nothing is looked for."""
    wanted: list[str] = []
    excluded: list[str] = []
    join_with_or = False
    for match in TOKEN.finditer(q):
        negated, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            join_with_or = bool(wanted)
            continue
        if phrase is not None:
            words = WORD.findall(phrase)
            term = '"' + " ".join(words) + '"' if words else None
        else:
            negated = "-" if bare.startswith("-") else ""
            words = WORD.findall(bare)
            term = " ".join(f'"{stem(w)}"*' for w in words) if words else None
            if term and len(words) > 1:
                term = f"({term})"
        if term is None:
            continue
        if negated:
            excluded.append(term)
        elif join_with_or:
            wanted[-1] = f"{wanted[-1]} OR {term}"
            join_with_or = False
        else:
            wanted.append(term)
    if not wanted:
        return None
    query = "(" + ") AND (".join(wanted) + ")"
    return query + "".join(f" NOT {term}" for term in excluded)


def _text_clause(q: str):
    """Words in description or street (the full-text index of the database)."""
    if db.engine.dialect.name == "postgresql":
        match = REPORT_SEARCH_VECTOR.op("@@", is_comparison=True)
        return match(func.websearch_to_tsquery(GERMAN, q))
    query = fts_query(q)
    if query is None:
        return false()
    matches = text("SELECT rowid FROM report_fts WHERE report_fts MATCH :fts")
    # unique: a search with a category holds two of these, each with its own query.
    fts = bindparam("fts", query, unique=True)
    return Report.id.in_(matches.bindparams(fts).columns(column("rowid")))


def category_matches(q: str) -> tuple[list[int], str]:
    """The categories named by plain words of the search, and the search without them.

    A word names a category when its stem begins a word of the category's name or of its
    main category's name; a main category named brings all its leaves.
    """
    categories = db.session.execute(select(Category.id, Category.parent_id, Category.name)).all()
    words = {row.id: {fold(w) for w in WORD.findall(row.name)} for row in categories}
    matched: set[int] = set()
    rest: list[str] = []
    for match in TOKEN.finditer(q):
        bare = match.group(3)
        if bare is None or bare.startswith("-") or bare.lower() == "or":
            rest.append(match.group(0))
            continue
        stems = [stem(w) for w in WORD.findall(bare)]
        hits = {
            cid
            for cid, names in words.items()
            if stems and all(any(n.startswith(s) for n in names) for s in stems)
        }
        if not hits:
            rest.append(match.group(0))
            continue
        matched |= hits
    leaves = {
        row.id
        for row in categories
        if row.id in matched or (row.parent_id is not None and row.parent_id in matched)
    }
    return sorted(leaves), " ".join(rest)


def search_clause(q: str):
    """Full-text search: a report number, or words in description, street or category."""
    if q.lstrip("#").isdigit():
        return Report.id == int(q.lstrip("#"))
    category_ids, rest = category_matches(q)
    if not category_ids:
        return _text_clause(q)
    tokens = [m.group(0) for m in TOKEN.finditer(rest)]
    wanted = " ".join(t for t in tokens if not t.startswith("-"))
    excluded = [t[1:] for t in tokens if t.startswith("-") and WORD.search(t)]
    rest_clause = and_(
        _text_clause(wanted) if WORD.search(wanted) else true(),
        *(not_(_text_clause(term)) for term in excluded),
    )
    return or_(_text_clause(q), and_(Report.category_id.in_(category_ids), rest_clause))
