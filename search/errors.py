"""Errors the search layer raises; callers map them to user-facing messages."""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error the search layer raises on purpose."""


class QuerySyntaxError(SearchError):
    """The query text cannot be understood; `str(error)` is a message fit to show the user."""


class InvalidCursor(SearchError):
    """A pagination cursor is malformed or belongs to another sort order."""


class IndexUnavailable(SearchError):
    """There is no usable index (missing, unreadable, locked, or opened read-only for a write)."""


class IndexRebuilding(IndexUnavailable):
    """There is no usable index yet, but a rebuild is under way; retry later."""
