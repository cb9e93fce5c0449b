"""Ids, draws and canonical frames: the small tools every step of the demo's generator uses.

Layer: the demo package, just above its fixed tables (atlas.demo.story); it depends on the import
contract (atlas.contract) for the columns and types of each table it hands over.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.contract import TABLES


def width(n: int) -> int:
    """Digits of the ids of n things (at least 4)."""
    return max(4, len(str(n)))


def arrow_ids(prefix: str, numbers: np.ndarray, digits: int) -> pa.Array:
    """`prefix` + zero-padded `numbers`, built in Arrow (fast for millions)."""
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=digits, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def strings(values: pa.Array) -> pd.arrays.ArrowStringArray:
    return pd.arrays.ArrowStringArray(pa.chunked_array([values]))


def take(labels: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """String array of `labels[codes]`, NA where a code is negative."""
    return strings(labels.take(pa.array(codes, mask=codes < 0)))


def frame(table: str, columns: dict) -> pd.DataFrame:
    """A frame with the contract's columns, in order, each cast to its canonical dtype."""
    dtypes = {"id": "string", "text": "string", "enum": "string", "bool": "boolean", "int": "Int64"}
    out = {}
    for column in TABLES[table].columns:
        values = columns[column.name]
        if column.type in dtypes:
            out[column.name] = pd.array(values, dtype=dtypes[column.type])
        else:
            out[column.name] = np.asarray(values).astype("datetime64[us]", copy=False)
    return pd.DataFrame(out)


def categorical(rng: np.random.Generator, probabilities: np.ndarray, n: int) -> np.ndarray:
    """n draws of category indices with the given probabilities."""
    cumulative = np.cumsum(probabilities) / np.sum(probabilities)
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)
