"""Files credsim writes and reads: atomic writes, bounded reads of regular files, folder locks.

Every file credsim writes goes through ``atomic_path``: the content is written under a
temporary name in the same folder, flushed to disk, renamed over the target and the folder
itself flushed, so a reader (or a resumed run) sees the old file or the new one, never a torn
one. Files a user gives are read with ``read_bounded``: regular files only, at most ``limit``
bytes, in chunks, so ``/dev/zero``, a FIFO or a huge sparse file is one error line, not a hang
or a big allocation.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 16
LOCK_FILE = ".credsim.lock"


class FileProblem(ValueError):
    """A file that cannot be used as it is; the message is one line naming the file."""


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename inside it) to disk; a no-op where not supported."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems refuse fsync on folders
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; on success it replaces ``path``.

    The temporary file is flushed (fsync), renamed over ``path`` and the folder flushed. On
    any failure the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write a file whole or not at all (see ``atomic_path``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)


def arrow_array(values):
    """A NumPy array (numbers, booleans or text) as an Arrow array built from its buffers.

    ``pyarrow.array`` asks pyarrow's pandas shim whether the values are a pandas object,
    and that imports pandas (about 0.3 s) when it is installed; a run writes its tables
    through this function so that pandas is imported only by the commands that read
    tables with it. An Arrow array is returned as it is.
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    a = np.asarray(values)
    if a.ndim != 1:
        a = a.reshape(-1)
    n = len(a)
    if a.dtype.kind in "US" or a.dtype == object:
        data = [str(x).encode("utf-8") for x in a.tolist()]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum([len(x) for x in data], out=offsets[1:])
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
        return pa.Array.from_buffers(pa.string(), n, buffers)
    if a.dtype == np.bool_:
        bits = np.packbits(a, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), n, [None, pa.py_buffer(a)])


def arrow_table(columns: dict, metadata: dict | None = None):
    """Named columns (NumPy or Arrow arrays) as an Arrow table, without importing pandas
    (see ``arrow_array``)."""
    import pyarrow as pa

    names = list(columns)
    arrays = [arrow_array(columns[k]) for k in names]
    return pa.Table.from_arrays(arrays, names=names, metadata=metadata)


def write_table(table, path: str | Path) -> None:
    """Write an Arrow table as Parquet (zstd), atomically."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_bounded(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, read in chunks.

    Anything else (a folder, a device, a FIFO, a file that is or grows too large) is a
    ``FileProblem`` naming the file; opening never blocks.
    """
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise FileProblem(f"{where}: file not found") from None
    except IsADirectoryError:
        raise FileProblem(f"{where}: is a folder, not a {what}") from None
    except OSError as e:
        raise FileProblem(f"{where}: cannot read: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileProblem(f"{where}: is a folder, not a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{where}: not a regular file (a device, FIFO or socket)")
        if st.st_size > limit:
            raise FileProblem(f"{where}: file is larger than {limit} bytes")
        chunks, size = [], 0
        while size <= limit:
            block = os.read(fd, min(CHUNK, limit + 1 - size))
            if not block:
                break
            chunks.append(block)
            size += len(block)
        if size > limit:
            raise FileProblem(f"{where}: file is larger than {limit} bytes")
        return b"".join(chunks)
    except OSError as e:
        raise FileProblem(f"{where}: cannot read: {e.strerror}") from None
    finally:
        os.close(fd)


def checksum(path: str | Path) -> str:
    """SHA-256 of a file's content (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock."""


class FolderLock:
    """An exclusive lock on a run folder (``flock`` on ``.credsim.lock`` inside it).

    The kernel drops the lock when its holder exits, however it exits, so a lock left by a
    killed run is never stale: the next run takes it. The file holds the holder's process id,
    for the message another run prints.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        path = self.folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise FolderBusy(
                f"{self.folder}: another credsim run (process {holder}) is writing this "
                "folder; wait for it or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
