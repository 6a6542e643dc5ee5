"""FAISS's answer for test/unit/ivfPq.test.ts: the same index (index_factory
string), trained on the same keys, searched for the same queries with each
query's own image left out. Reads keys.npy (n x d float32) and a JSON request
{factory, opqIterations, opqPqIterationsFirst, pqIterations, seeds, nprobes, k, queries: [{row, lo, hi}]} (rows lo..hi-1
are the query's image); trains once per seed of k-means (the coarse quantizer's and the PQ's; FAISS's OPQ has a fixed
one) and writes [{nprobe: [[row, ...] per query]} per seed] as JSON."""
import json
import sys

import faiss
import numpy as np

keys = np.load(sys.argv[1]).astype(np.float32)
req = json.load(open(sys.argv[2]))
n, d = keys.shape
faiss.omp_set_num_threads(1)
q = keys[[x["row"] for x in req["queries"]]]
k = req["k"]
widest = max(x["hi"] - x["lo"] for x in req["queries"])
runs = []
for seed in req["seeds"]:
    index = faiss.index_factory(d, req["factory"])
    opq = faiss.downcast_VectorTransform(index.chain.at(0))
    opq.niter = req["opqIterations"]
    opq.niter_pq_0 = req["opqPqIterationsFirst"]
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    ivf.cp.seed = seed
    ivf.pq.cp.seed = seed
    ivf.pq.cp.niter = req["pqIterations"]
    index.train(keys)
    index.add(keys)
    out = {}
    for nprobe in req["nprobes"]:
        ivf.nprobe = nprobe
        # k + the own image's entries, then the own image dropped: the filtered top k
        _, ids = index.search(q, k + widest)
        out[str(nprobe)] = [[int(i) for i in row if i >= 0 and not (x["lo"] <= i < x["hi"])][:k] for row, x in zip(ids, req["queries"])]
    runs.append(out)
json.dump(runs, sys.stdout)
