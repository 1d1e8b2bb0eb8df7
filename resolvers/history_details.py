"""Details of history entries, audit entries and automatic events as a client reads them: the
objects they name by their global ids, the fields by their API names. The database keeps its own
ids and column names."""

from __future__ import annotations

from typing import Any

from resolvers.ids import encode_id

_OBJECTS = {
    "from_binder": "Binder",
    "to_binder": "Binder",
    "from_case": "Case",
    "to_case": "Case",
    "to_counterparty": "Counterparty",
    "from_template": "Document",
    # Users by their global ids beside the names they had then (a username may change).
    "former_holder_id": "User",
    "holder_id": "User",
}
_FIELDS = {
    "counterparty_id": "counterpartyId",
    "case_id": "caseId",
    "received_on": "receivedOn",
    "document_type_id": "documentTypeId",
    "is_template": "isTemplate",
}
_PRINCIPALS = {"user": "User", "group": "Group"}


def client_details(details: dict[str, Any] | None) -> dict[str, Any]:
    shown = dict(details or {})
    for key, type_name in _OBJECTS.items():
        if isinstance(shown.get(key), int):
            shown[key] = encode_id(type_name, shown[key])
    if isinstance(shown.get("fields"), list):
        shown["fields"] = [_FIELDS.get(name, name) for name in shown["fields"]]
    if isinstance(shown.get("entries"), list):
        shown["entries"] = [_entry(entry) for entry in shown["entries"]]
    return shown


def _entry(entry: Any) -> Any:
    """A permission entry's principal ("User:5") as the principal's global id."""
    if not isinstance(entry, dict) or not isinstance(entry.get("principal"), str):
        return entry
    kind, _, key = entry["principal"].partition(":")
    type_name = _PRINCIPALS.get(kind.lower())
    if type_name is None or not key.isdigit():
        return entry
    return {**entry, "principal": encode_id(type_name, int(key))}


# A card's "data changed" event: the changed field → the type of the objects its values name.
_CARD_CHANGES = {
    "accountManager": "User",
    "type": "CounterpartyType",
    "categories": "DictionaryEntry",
    "groups": "DictionaryEntry",
    "segmentation": "DictionaryEntry",
    "addresses": "Address",
    "contactPersons": "ContactPerson",
    "merged": "Counterparty",
}
# The parts of a change that name objects ("moved" of a merge holds counts).
_CHANGE_PARTS = ("from", "to", "added", "removed", "changed", "ended")


def event_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """An automatic event's details, its card changes naming objects by their global ids."""
    shown = dict(details or {})
    changes = shown.get("changes")
    if isinstance(changes, dict):
        shown["changes"] = {name: _change(name, change) for name, change in changes.items()}
    return shown


def _change(name: str, change: Any) -> Any:
    type_name = _CARD_CHANGES.get(name)
    if type_name is None or not isinstance(change, dict):
        return change
    return {part: _ids(type_name, value) if part in _CHANGE_PARTS else value for part, value in change.items()}


def _ids(type_name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return encode_id(type_name, value)
    if isinstance(value, list):
        return [_ids(type_name, item) for item in value]
    return value
