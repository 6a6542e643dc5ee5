"""FAISS IndexFlatL2 on one thread, the exact-search side of `npm run bench:index`'s
exact comparison: single queries (one search call per query, FAISS's
sequential SIMD scan) and the same queries as one batch (BLAS), k = 10.
Prints JSON; run with Debian's FAISS:
/usr/bin/python3 bench/faiss_flat.py --keys K.npy --queries Q.npy --n 200
"""
import argparse
import json
import time

import faiss
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    keys = np.ascontiguousarray(np.load(args.keys), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(args.queries), dtype=np.float32)[: args.n]
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatL2(keys.shape[1])
    index.add(keys)
    index.search(queries[:2], args.k)  # warm
    nq = queries.shape[0]
    c0, t0 = time.process_time(), time.perf_counter()
    ids = np.empty((nq, args.k), dtype=np.int64)
    for i in range(nq):
        ids[i] = index.search(queries[i : i + 1], args.k)[1][0]
    single = (time.perf_counter() - t0, time.process_time() - c0)
    c0, t0 = time.process_time(), time.perf_counter()
    index.search(queries, args.k)
    batch = (time.perf_counter() - t0, time.process_time() - c0)
    print(json.dumps({
        "queries": nq,
        "single": {"qps": nq / single[0], "qpsCpu": nq / single[1]},
        "batch": {"qps": nq / batch[0], "qpsCpu": nq / batch[1]},
        "ids": ids.tolist(),
    }))


if __name__ == "__main__":
    main()
