"""Finding a message's copy in another IMAP folder, for moves that may have been cut off.

A server that dies between the copy and the expunge of a MOVE (or of COPY + EXPUNGE, or between
an APPEND and the original's expunge) leaves the message in both folders. Moving it again would
put a second copy in the destination, so a retried move first looks there: by size (cheap, from
the server's index), then by the SHA-256 of the bytes of the few candidates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from imapclient import IMAPClient

from mailproc.store.files import sha256_hex

FETCH_CHUNK = 50  # messages fetched per command


def digests_of(client: IMAPClient, uids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """(size, SHA-256) of each of these messages of the selected folder that still exists,
    fetched in chunks; the bodies are not kept."""
    ordered = sorted(set(uids))
    out: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ordered), FETCH_CHUNK):
        got = client.fetch(ordered[start:start + FETCH_CHUNK], ["BODY.PEEK[]"])
        for uid, item in got.items():
            if b"BODY[]" in item:
                body = bytes(item[b"BODY[]"])
                out[uid] = (len(body), sha256_hex(body))
    return out


def copies_in(client: IMAPClient, folder: str, sizes: Iterable[int]) -> Counter[str]:
    """SHA-256 digests (with multiplicity) of the folder's messages of any of these sizes.

    Selects the folder read-only: the caller selects its own folder again afterwards.
    """
    client.select_folder(folder, readonly=True)
    candidates: set[int] = set()
    for size in sorted(set(sizes)):
        candidates.update(client.search(["LARGER", size - 1, "SMALLER", size + 1]))
    return Counter(sha for _, sha in digests_of(client, candidates).values())
