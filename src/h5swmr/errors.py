"""Every error h5swmr raises on purpose.

Each class also inherits the built-in exception closest in meaning, so code written for h5py or for
plain Python (``except KeyError``, ``except OSError``) keeps working. Errors carry the facts as
attributes (``dataset``, ``structure``, ``address``) so callers need not parse the message.
"""

from __future__ import annotations


class H5SwmrError(Exception):
    """Root of every error h5swmr raises on purpose."""


class FormatError(H5SwmrError, ValueError):
    """Bytes on disk are not what the HDF5 format allows."""

    def __init__(self, message: str, *, structure: str = "", address: int | None = None) -> None:
        super().__init__(message)
        self.structure = structure
        self.address = address


class ChecksumError(FormatError):
    """A checksummed block whose stored lookup3 value does not match its bytes."""


class TruncatedError(FormatError):
    """A structure that runs past the end of the bytes available for it."""


class NotHdf5FileError(FormatError, OSError):
    """A file that is not HDF5 at all (no HDF5 signature where one must be, or empty): every
    command says "not an HDF5 file" for it, in the same words. Also an OSError, as h5py's
    error for such a file is."""


class UnsupportedError(H5SwmrError, NotImplementedError):
    """Valid HDF5, or a valid request, that h5swmr does not handle (yet)."""


class InvalidStateError(H5SwmrError, RuntimeError):
    """A call made in the wrong state, such as append_frame() after close()."""


class FrameError(H5SwmrError, ValueError):
    """A frame of the wrong size or shape for its dataset."""

    def __init__(self, message: str, *, dataset: str = "") -> None:
        super().__init__(message)
        self.dataset = dataset


class FrameDtypeError(H5SwmrError, TypeError):
    """A frame whose dtype is not the dataset's."""

    def __init__(self, message: str, *, dataset: str = "") -> None:
        super().__init__(message)
        self.dataset = dataset


class DatasetNotFoundError(H5SwmrError, KeyError, IndexError):
    """A dataset name or number the writer does not know (KeyError and IndexError both match)."""

    def __init__(self, message: str, *, dataset: object = None) -> None:
        super().__init__(message)
        self.dataset = dataset

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class InvalidArgumentError(H5SwmrError, ValueError):
    """A bad name, path, shape, chunk, tile or option passed to the API."""


class InvalidDtypeError(H5SwmrError, TypeError):
    """A dtype that HDF5 streaming datasets cannot hold (strings, objects, structured...)."""


class FileLockedError(H5SwmrError, BlockingIOError):
    """Another process holds a lock on the file, or its flags say a writer has it open."""


class WriterRunningError(H5SwmrError, BlockingIOError):
    """A file its writer is still writing, where the call needs a file whose writer is gone
    (``recover``): it holds a lock on the file, or the file changes while we watch."""


class FilterError(H5SwmrError, ValueError):
    """A filter or pipeline that is invalid, or a chunk a filter cannot encode or decode.

    Raised for a stored chunk, it names the ``dataset``, the ``chunk`` (its position in chunks
    along each dimension) and the chunk's ``address``.
    """

    def __init__(
        self,
        message: str,
        *,
        dataset: str = "",
        chunk: tuple[int, ...] | None = None,
        address: int | None = None,
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.chunk = chunk
        self.address = address


class FilterUnavailableError(H5SwmrError, ImportError):
    """A filter whose optional library is not installed; the message names the extra to install."""


class ExtraUnavailableError(H5SwmrError, ImportError):
    """A front end (``view``) whose optional libraries are not installed; names the extra."""


class StorageError(H5SwmrError, OSError):
    """The operating system refused a read, write, sync or truncate."""


class SelectionIndexError(H5SwmrError, IndexError):
    """An index out of a dataset's range (h5py raises IndexError)."""


class SelectionTypeError(H5SwmrError, TypeError):
    """A selection h5py cannot take: None, a float, a second index list, decreasing indices."""


class SelectionValueError(H5SwmrError, ValueError):
    """A selection of a wrong form: a step below 1, too many indices, two ellipses."""


class NotReadableError(FormatError, OSError):
    """Bytes ``h5swmr.File`` cannot read (no HDF5 signature, a corrupt header or chunk): h5py
    raises OSError for these, so this is both a FormatError and an OSError."""


class MessageError(H5SwmrError, ValueError):
    """A detector-stream message that is not what the protocol allows (bad CBOR, unknown type,
    a field of the wrong type, a payload of the wrong size); ``field`` names the part at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class DistributedWriterError(H5SwmrError, RuntimeError):
    """A distributed writer cannot go on: every writer lost, or an actor failed or timed out."""
