"""A rebuild's chunked read decoded in a process of its own.

Decoding the log costs a rebuild's folding process about a third of its CPU: psycopg's rows,
each payload's JSON and, for nearly every event, its sealed behaviour (base64, AES-GCM and
JSON again, holding the GIL; shared/eventlog/sealing.py). :func:`read_chunks_elsewhere`
runs the whole chunked read (:class:`~shared.eventlog.chunked_reads.ChunkedReader`: the
statements, the data keys, the seals, the upcasters) in a forked child process, which hands
each chunk's decoded events over in :mod:`marshal`'s format (a file in ``/dev/shm``, named
down a pipe). The folding process loads it and builds the events: about a third of the CPU
the decoding took it (docs/benchmarks.md, "Rebuild speed, session 30"). On a machine with a
free second core the child decodes the next chunk while the parent folds this one; on a
loaded one the two processes' CPU together is more than one process's was.

What the parent gets is the same as an in-process read: the same events, in the same
order, with the same payloads, times (to the microsecond, with their UTC offsets), erasure
flags and errors (an exception in the child is raised again in the parent). Each chunk's
data keys are still asked of the database when it is read, so an erasure is seen as before.

Only where ``fork`` exists (Linux): the child inherits the store's engine, decoder and keys;
it drops the engine's pooled connections (never closing the parent's) and opens its own.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection

from sqlalchemy import Engine

from shared.eventlog.chunked_reads import ChunkedReader, EventChunk, Fetch
from shared.eventlog.decoding import EventDecoder
from shared.eventlog.records import RecordedEvent
from shared.gc_pause import collector_paused

_CHUNK, _END, _ERROR, _TAKEN = b"C", b"E", b"X", b"T"
AHEAD = 2
"""Decoded chunks the child may have waiting for the parent (memory: a chunk's bytes each)."""
_MARSHAL, _PICKLE = b"M", b"P"


def can_fork() -> bool:
    """Whether this process can run the read in a forked process.

    Returns:
        True where the ``fork`` start method exists, unless this is a daemonic process
        (which may have no children).
    """
    if multiprocessing.current_process().daemon:
        return False
    return "fork" in multiprocessing.get_all_start_methods()


def read_chunks_elsewhere(
    engine: Engine,
    decoder: EventDecoder,
    fetch: Fetch,
    head: int,
    chunk_events: int,
    types: Iterable[str] | None,
    decrypt: bool,
) -> Iterator[EventChunk]:
    """:meth:`ChunkedReader.read` run in a child process; the chunks rebuilt here.

    Parameters:
        engine: the store's engine (the child opens connections of its own on it).
        decoder: the store's decoder (catalogue and key ring).
        fetch: the store's page fetch.
        head, chunk_events, types, decrypt: as for ``EventStore.read_person_chunks``.

    Returns:
        An iterator of the chunks, as the in-process read yields them. Closing it early
        stops the child.

    Raises:
        Exception: whatever the read raised in the child (``UnknownEventType`` ...).
        RuntimeError: the child ended without finishing the read.
    """
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe(duplex=True)
    wanted = None if types is None else list(types)
    scratch = tempfile.mkdtemp(prefix="compound-decoded-", dir=_scratch_root())
    child = context.Process(
        target=_serve,
        args=(engine, decoder, fetch, there, scratch, (head, chunk_events, wanted, decrypt)),
        name="eventlog-decoder",
        daemon=True,
    )
    child.start()
    there.close()
    try:
        while True:
            try:
                message = here.recv_bytes()
            except EOFError:
                raise RuntimeError(
                    f"the decoding process ended without finishing (exit {child.exitcode})"
                ) from None
            kind = message[:1]
            if kind == _END:
                return
            if kind == _ERROR:
                raise pickle.loads(message[1:])
            chunk = _parse(_take(os.fsdecode(message[1:])))
            with contextlib.suppress(OSError):  # the child may have finished already
                here.send_bytes(_TAKEN)
            yield chunk
            del chunk  # the caller alone decides how long a chunk lives
    finally:
        here.close()
        if child.is_alive():
            child.terminate()
        child.join()
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch_root() -> str | None:
    """Where the decoded chunks are handed over: memory (``/dev/shm``) where there is one."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _take(path: str) -> bytes:
    """The file's bytes, read at once; the file removed."""
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    return data


def _serve(
    engine: Engine,
    decoder: EventDecoder,
    fetch: Fetch,
    channel: Connection,
    scratch: str,
    read: tuple[int, int, list[str] | None, bool],
) -> None:
    """The child: read and decode every chunk, hand each over, then the end (or the error).

    Each chunk is written to a file in ``scratch`` and its name sent down the pipe: a pipe
    carries 64 KiB at a time, so sending a chunk of megabytes through it would take turns
    between the two processes, hundreds per chunk (slow on a loaded machine). At most
    :data:`AHEAD` chunks wait for the parent.
    """
    code = 0
    try:
        engine.dispose(close=False)  # the parent's connections stay the parent's
        reader = ChunkedReader(engine, decoder, fetch)
        waiting = 0
        for number, chunk in enumerate(reader.read(*read)):
            if waiting >= AHEAD:
                channel.recv_bytes()  # the parent took one
                waiting -= 1
            path = os.path.join(scratch, f"{number}.chunk")
            with open(path, "wb") as f:
                f.write(_encode(chunk))
            del chunk
            channel.send_bytes(_CHUNK + os.fsencode(path))
            waiting += 1
        channel.send_bytes(_END)
    except BaseException as err:  # every failure is the parent's to raise
        code = 1
        with contextlib.suppress(OSError):  # the parent went away: nothing to tell
            channel.send_bytes(_ERROR + _pickled(err))
    finally:
        channel.close()
        os._exit(code)  # no atexit handlers or buffers inherited from the parent


def _pickled(err: BaseException) -> bytes:
    try:
        return pickle.dumps(err)
    except Exception:  # an exception that does not pickle: its text
        return pickle.dumps(RuntimeError(f"decoding process: {err!r}"))


def _encode(chunk: EventChunk) -> bytes:
    """One chunk in :mod:`marshal`'s format after ``M``: its kind, range and every event's
    fields (plain values: ints, text, the payload's dicts and lists, times as ISO text).
    Pickled, after ``P``, if a payload holds another kind of value (an upcaster's own)."""
    rows = [
        (
            e.position,
            e.event_id_text,
            e.tenant_id_text,
            e.stream_id,
            e.version,
            e.type,
            e.schema_version,
            e.data,
            e.raw_metadata,
            e.occurred_at.isoformat(),
            e.recorded_at.isoformat(),
            e.erased,
        )
        for e in chunk.events
    ]
    try:
        return _MARSHAL + marshal.dumps((chunk.people, chunk.low, chunk.high, rows))
    except ValueError:  # a value marshal does not know
        return _PICKLE + pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)


@collector_paused()  # a chunk's events: many small objects, no cycles
def _parse(encoded: bytes) -> EventChunk:
    """The chunk :func:`_encode` gave."""
    if encoded[:1] == _PICKLE:
        pickled: EventChunk = pickle.loads(encoded[1:])
        return pickled
    people, low, high, rows = marshal.loads(memoryview(encoded)[1:])
    parse = datetime.fromisoformat
    events = [
        RecordedEvent(p, e, t, s, v, ty, sv, d, m, parse(o), parse(r), x)
        for p, e, t, s, v, ty, sv, d, m, o, r, x in rows
    ]
    return EventChunk(events, people, low, high)


__all__ = ["can_fork", "read_chunks_elsewhere"]
