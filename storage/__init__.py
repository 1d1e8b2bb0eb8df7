"""Content-addressed blob storage: one small interface, a directory or an S3 bucket behind it.

Imports nothing of Kartoteka's; the domain sees only :class:`BlobStore` and the errors.
"""

from storage.base import (
    CHUNK_SIZE,
    BlobHashMismatch,
    BlobNotFound,
    BlobSizeMismatch,
    BlobStore,
    BlobStream,
    BlobTooLarge,
    FileDigest,
    RangeNotSatisfiable,
    StorageError,
    StorageUnavailable,
    StoredBlob,
    is_blob_key,
)
from storage.factory import open_blob_store
from storage.filesystem import FilesystemBlobStore
from storage.s3 import S3BlobStore

__all__ = [
    "CHUNK_SIZE",
    "BlobHashMismatch",
    "BlobNotFound",
    "BlobSizeMismatch",
    "BlobStore",
    "BlobStream",
    "BlobTooLarge",
    "FileDigest",
    "FilesystemBlobStore",
    "RangeNotSatisfiable",
    "S3BlobStore",
    "StorageError",
    "StorageUnavailable",
    "StoredBlob",
    "is_blob_key",
    "open_blob_store",
]
