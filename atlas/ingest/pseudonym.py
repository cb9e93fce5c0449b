"""Keyed pseudonyms for client ids.

A client id is replaced at import by HMAC-SHA-256(key, id), truncated to 128 bits and written as 32
hex digits. Without the key the pseudonym cannot be reversed or recomputed from a guessed id (unlike
a plain hash, which anyone can compute over every plausible id); with the same key, the same client
gets the same pseudonym in referrals and outcomes and across imports, so the two still link.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

DIGEST_HEX = 32


def _keyed(key: bytes):
    """The pseudonym function for `key`: the key's HMAC state is built once and copied per value."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def pseudonym(value) -> str:
        h = keyed.copy()
        h.update(str(value).encode("utf-8"))
        return h.hexdigest()[:DIGEST_HEX]

    return pseudonym


def pads(key: bytes) -> dict[str, bytes]:
    """The key's inner and outer HMAC pads, bound to queries/ingest/pseudonym.sql (which pseudonymises a
    whole batch in DuckDB, on every core, as `pseudonymise` does here)."""
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    return {"inner_pad": bytes(b ^ 0x36 for b in padded), "outer_pad": bytes(b ^ 0x5C for b in padded)}


def pseudonym(value: str, key: bytes) -> str:
    return _keyed(key)(value)


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """The series with every non-null value replaced by its keyed pseudonym (each distinct id hashed once)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    one = _keyed(key)
    digests = np.array([one(u) for u in uniques] + [None], dtype=object)
    # code -1 (missing) picks the trailing None
    return pd.Series(digests[codes], index=values.index, dtype="string", name=values.name)
