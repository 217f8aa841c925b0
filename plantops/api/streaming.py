"""Response bodies as the server streams them: exports and large readings.

Under ASGI (daphne) Django reads a synchronous iterator whole into memory before sending it,
and under WSGI it does the same with an asynchronous one: `served` gives each server the kind
it streams, and under ASGI each chunk is still made in the request's own thread, where its
database connection and any open server-side cursor live.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest


def served(request: HttpRequest, chunks: Iterator[bytes]) -> Iterator[bytes] | AsyncIterator[bytes]:
    """`chunks` as the request's server streams them: as they are under WSGI, through an
    asynchronous iterator under ASGI."""
    return async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each chunk read in the request's thread (thread-sensitive), where its database
    connection and any open server-side cursor live; closed there too, also when the client
    goes away part-way."""
    take = sync_to_async(_next_chunk, thread_sensitive=True)
    try:
        while (chunk := await take(chunks)) is not None:
            yield chunk
    finally:
        await sync_to_async(_close, thread_sensitive=True)(chunks)
