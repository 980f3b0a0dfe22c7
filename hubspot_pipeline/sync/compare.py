"""Comparing what a daily run read with what the index holds: which keys differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def differing(read: pa.Table, indexed: pa.Table, column: str) -> np.ndarray:
    """Sorted distinct values of `column` over the rows found in one table and not in the other
    (the tables share their columns; a row counts as often as it appears)."""
    both = pd.concat(
        [read.to_pandas().assign(_side=1), indexed.to_pandas().assign(_side=-1)], ignore_index=True
    )
    net = both.groupby(read.column_names, sort=False, dropna=False)["_side"].sum()
    return np.unique(net[net != 0].index.get_level_values(column).to_numpy(np.int64))
