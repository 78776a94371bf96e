"""Writing files the way every result file is written: atomically, and with a failure to write
reported as the user's one-line error rather than a traceback."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from twin.errors import TwinError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` (same folder, same suffix) for a writer that wants a
    file name; when the block ends it is renamed onto ``path``, or removed if the block raised.
    A reader never sees a half-written file, and an interrupted write leaves the old one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # as a plain open() would have made it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as is, no newline translation) to ``path`` through a temporary
    file in the same folder and a rename (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            with tmp.open("w", newline="") as fh:
                fh.write(content)


@contextlib.contextmanager
def writing(where: object, what: str = "it", place: str = "path") -> Iterator[None]:
    """Within the block, an OSError becomes the one-line user error
    ``"WHERE: cannot write WHAT (why); choose a writable PLACE"`` (exit status 2 on the
    command line), for example ``--out results/: cannot write results there (Permission
    denied); choose a writable folder``."""
    try:
        yield
    except OSError as err:
        raise TwinError(f"{where}: cannot write {what} ({err.strerror or err}); choose a "
                        f"writable {place}") from None
