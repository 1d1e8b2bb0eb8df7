"""The GraphQL multipart request spec's `map`: which file goes to which variable.

Strawberry's own placement trusts the map: a path through a null or a string, or a list index
that is not a number, raised a TypeError or ValueError (a server error), and two files mapped to
one variable silently kept the last. Here the map is checked first, and every fault is the
client's, with a message saying what is wrong.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class UploadMapError(ValueError):
    """The map does not fit the operations or the files sent with them."""


def place_files(operations: Any, files_map: Any, files: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `operations` with each file put where the map says (in place of its null)."""
    if not isinstance(operations, dict):
        raise UploadMapError("the operations part is a JSON object")
    if not isinstance(files_map, dict):
        raise UploadMapError("the map part is a JSON object of file names to lists of variable paths")
    placed = copy.deepcopy(operations)
    seen: set[str] = set()
    for name, paths in files_map.items():
        if not isinstance(paths, list) or not paths or not all(isinstance(path, str) for path in paths):
            raise UploadMapError(f"the map must give file {name!r} a non-empty list of variable paths (strings)")
        if name not in files:
            raise UploadMapError(f"the map names file {name!r}, which the request does not carry as a file part")
        for path in paths:
            if path in seen:
                raise UploadMapError(f"the map puts two files at {path}")
            seen.add(path)
            container, key = _slot(placed, path)
            container[key] = files[name]
    return placed


def _slot(operations: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container and key of the null a file replaces; the path must lead to exactly that."""
    steps = path.split(".")
    if len(steps) < 2 or steps[0] != "variables":
        raise UploadMapError(f"a file goes into the variables, not at {path}")
    container: Any = operations
    key: Any = steps[0]
    for step in steps[1:]:
        container = _step(container, key, path)
        key = _key(container, step, path)
    if _step(container, key, path) is not None:
        raise UploadMapError(f"{path} must be null in the operations, a placeholder for the file")
    return container, key


def _step(container: Any, key: Any, path: str) -> Any:
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list) and isinstance(key, int) and key < len(container):
        return container[key]
    raise UploadMapError(f"the operations have nothing at {path}")


def _key(container: Any, step: str, path: str) -> Any:
    if isinstance(container, dict):
        return step
    if isinstance(container, list) and step.isascii() and step.isdigit() and len(step) <= 9:
        return int(step)
    raise UploadMapError(f"the operations have nothing at {path}")
