#!/usr/bin/env python3
"""FAISS IVF-PQ with re-ranking on full vectors (IndexRefineFlat), configured as
Patch Lens's Lance index is (partitions, PQ sub-vectors of 8 bits, nprobes,
refine factor), on the same keys and queries; recall@k against the ground truth
ids given, and the median single-query latency on one thread. Called by
bench/lance.ts; prints one JSON document on stdout."""

import argparse
import json
import sys
import time

import numpy as np
import faiss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--gt", required=True, help="ground truth ids, int32 [nq, k]")
    ap.add_argument("--nlist", type=int, required=True)
    ap.add_argument("--pq", type=int, required=True)
    ap.add_argument("--settings", required=True, help="nprobes:refine,... e.g. 300:10,100:10")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--train", type=int, default=256 * 1000)
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    xb = np.ascontiguousarray(np.load(a.keys), dtype=np.float32)
    xq = np.ascontiguousarray(np.load(a.queries), dtype=np.float32)
    gt = np.load(a.gt)
    n, d = xb.shape
    quantizer = faiss.IndexFlatL2(d)
    ivfpq = faiss.IndexIVFPQ(quantizer, d, a.nlist, a.pq, 8)
    index = faiss.IndexRefineFlat(ivfpq)
    rng = np.random.default_rng(0)
    train = xb[rng.choice(n, size=min(n, a.train), replace=False)]
    t = time.perf_counter()
    index.train(train)
    index.add(xb)
    build_s = time.perf_counter() - t
    print(f"faiss IVF{a.nlist},PQ{a.pq}+refine: built in {build_s:.1f} s", file=sys.stderr)
    out = {"faiss": faiss.__version__, "params": {"nlist": a.nlist, "pq": a.pq}, "buildS": build_s, "codeBytesPerEntry": a.pq, "sweep": []}
    for s in a.settings.split(","):
        nprobe, refine = (int(x) for x in s.split(":"))
        ivfpq.nprobe = nprobe
        index.k_factor = float(refine)
        ms = []
        hits = 0
        for i in range(xq.shape[0]):
            t = time.perf_counter()
            _, ids = index.search(xq[i : i + 1], a.k)
            ms.append((time.perf_counter() - t) * 1000)
            hits += len(set(ids[0].tolist()) & set(gt[i, : a.k].tolist()))
        r = {"params": {"nprobes": nprobe, "refineFactor": refine}, "recall": hits / (xq.shape[0] * a.k), "p50Ms": float(np.median(ms))}
        print(f"  faiss nprobe {nprobe} refine {refine}: recall@{a.k} {r['recall']:.3f}, p50 {r['p50Ms']:.2f} ms", file=sys.stderr)
        out["sweep"].append(r)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
