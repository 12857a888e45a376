"""The reference for bench/featurestore.ts: pandas merge_asof on the same data.

The data are built here with the same integer hashes bench/featurestore_run.ts
uses (so no Parquet engine is needed: Debian's pandas has none), outside the
timer; the timer covers what Orchard's join does after reading: per view,
sort, drop duplicate (key, event time) rows keeping the latest created, then
merge_asof by key, backward, with the 90-day TTL as tolerance. Prints JSON.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

SHAPES = {
    "big": dict(entities=200_000, entity_rows=1_000_000, views=[(4_000_000, 34), (3_000_000, 33), (3_000_000, 33)]),
    "feast": dict(entities=10_000, entity_rows=17_000, views=[(50_000, 200)] * 5),
}
MULTS = [7919, 7927, 7933, 7937, 7949]
BASE = np.datetime64("2026-01-01T00:00:00", "ms").astype(np.int64)
YEAR_S = 365 * 86_400


def keys(i, mult, entities):
    return np.char.add("C-", ((i * mult) % entities).astype(str))


def build(shape):
    s = SHAPES[shape]
    views = []
    for v, (rows, features) in enumerate(s["views"]):
        i = np.arange(rows, dtype=np.int64)
        cols = {
            "customer_id": keys(i, MULTS[v], s["entities"]),
            "ts": pd.to_datetime((i * (104729 + v)) % YEAR_S * 1000 + BASE, unit="ms"),
            "created": pd.to_datetime((i % 997) * 1000 + BASE, unit="ms"),
        }
        for j in range(features):
            cols[f"v{v}_f{j}"] = ((i * (2 * j + 1) + j * 7919 + v) % 10007).astype(np.float64) / 100
        views.append(pd.DataFrame(cols))
    i = np.arange(s["entity_rows"], dtype=np.int64)
    entities = pd.DataFrame({
        "customer_id": keys(i, 15485863, s["entities"]),
        "event_timestamp": pd.to_datetime((i * 7_777_777) % YEAR_S * 1000 + BASE, unit="ms"),
        "label": i % 2,
    })
    return entities, views


def join(entities, views):
    out = entities.reset_index().sort_values("event_timestamp", kind="stable")
    for df in views:
        right = df.sort_values(["ts", "created"], kind="stable").drop_duplicates(["customer_id", "ts"], keep="last")
        out = pd.merge_asof(out, right.drop(columns=["created"]), left_on="event_timestamp", right_on="ts",
                            by="customer_id", direction="backward", tolerance=pd.Timedelta("90d"))
        out = out.drop(columns=["ts"])
    return out.sort_values("index").drop(columns=["index"])


if __name__ == "__main__":
    shape = sys.argv[1]
    entities, views = build(shape)
    t0 = time.perf_counter()
    out = join(entities, views)
    seconds = time.perf_counter() - t0
    features = out.columns[entities.shape[1]:]
    print(json.dumps({"seconds": seconds, "rows": len(out), "columns": out.shape[1],
                      "checksum": float(out[features].sum().sum())}))
