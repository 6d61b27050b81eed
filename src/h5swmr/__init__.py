"""h5swmr: stream frames into HDF5 files in SWMR mode, in pure Python, without libhdf5.

Any libhdf5 reader (h5py with ``swmr=True``, h5watch, silx, h5web) reads the file while it grows.
"""

from h5swmr.errors import (
    ChecksumError,
    DatasetNotFoundError,
    DistributedWriterError,
    FileLockedError,
    FilterError,
    FilterUnavailableError,
    FormatError,
    FrameDtypeError,
    FrameError,
    H5SwmrError,
    InvalidArgumentError,
    InvalidDtypeError,
    InvalidStateError,
    NotHdf5FileError,
    StorageError,
    TruncatedError,
    UnsupportedError,
    WriterRunningError,
)
from h5swmr.filters.compression import parse_compression
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.reader import (
    Dataset,
    ExternalLink,
    File,
    Group,
    HardLink,
    SoftLink,
    SwmrFileReader,
)
from h5swmr.storage.commit import Durability
from h5swmr.storage.locking import FileLocking
from h5swmr.writer.monitor import SlowStorageWarning, WriterStats
from h5swmr.writer.recover import RecoveryReport, recover
from h5swmr.writer.swmr_file_writer import (
    DirectIOUnavailableWarning,
    SwmrFileWriter,
    UnorderedFileSystemWarning,
)

__version__ = "0.1.0"

__all__ = [
    "ChecksumError",
    "Dataset",
    "DatasetNotFoundError",
    "DistributedWriterError",
    "DirectIOUnavailableWarning",
    "Durability",
    "ExternalLink",
    "File",
    "FileLocking",
    "FileLockedError",
    "FilterError",
    "FilterPipeline",
    "FilterUnavailableError",
    "FormatError",
    "FrameDtypeError",
    "FrameError",
    "Group",
    "H5SwmrError",
    "HardLink",
    "InvalidArgumentError",
    "InvalidDtypeError",
    "InvalidStateError",
    "NotHdf5FileError",
    "RecoveryReport",
    "SlowStorageWarning",
    "SoftLink",
    "StorageError",
    "SwmrFileReader",
    "SwmrFileWriter",
    "TruncatedError",
    "UnorderedFileSystemWarning",
    "UnsupportedError",
    "WriterRunningError",
    "WriterStats",
    "__version__",
    "parse_compression",
    "recover",
]
