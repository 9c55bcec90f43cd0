"""Values: supported types, the codec (value <-> literal reference), File/Directory, blob stores."""

from stratoflow.values._blobs import BlobStore, LocalBlobStore, verify_stream
from stratoflow.values._codec import (
    INLINE_LIMIT_BYTES,
    LiteralRef,
    RemoteFileError,
    ValueTypeError,
    canonical_json,
    check_value,
    coerce_input,
    decode,
    encode,
    key_from_text,
    key_text,
    sha256_hex,
)
from stratoflow.values._files import Directory, File, hash_directory, hash_file, materialise_files
from stratoflow.values._frames import kind_of as frame_kind
from stratoflow.values._integrity import literal_problem
from stratoflow.values._results import ItemResult
from stratoflow.values._structured import StructuredDataset
from stratoflow.values._typeref import UnsupportedTypeError, is_assignable, resolve_class, typeref_of

__all__ = [
    "INLINE_LIMIT_BYTES",
    "BlobStore",
    "Directory",
    "File",
    "ItemResult",
    "LiteralRef",
    "LocalBlobStore",
    "RemoteFileError",
    "StructuredDataset",
    "UnsupportedTypeError",
    "ValueTypeError",
    "canonical_json",
    "check_value",
    "coerce_input",
    "decode",
    "encode",
    "frame_kind",
    "hash_directory",
    "hash_file",
    "is_assignable",
    "key_from_text",
    "key_text",
    "literal_problem",
    "materialise_files",
    "resolve_class",
    "sha256_hex",
    "typeref_of",
    "verify_stream",
]
