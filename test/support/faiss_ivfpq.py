"""FAISS's answer for test/unit/ivfPq.test.ts: the same index (index_factory
string), trained on the same keys, searched for the same queries with each
query's own image left out. Reads keys.npy (n x d float32) and a JSON request
{factory, opqIterations, opqPqIterationsFirst, pqIterations, nprobes, k, queries: [{row, lo, hi}]} (rows lo..hi-1
are the query's image); writes {nprobe: [[row, ...] per query]} as JSON."""
import json
import sys

import faiss
import numpy as np

keys = np.load(sys.argv[1]).astype(np.float32)
req = json.load(open(sys.argv[2]))
n, d = keys.shape
faiss.omp_set_num_threads(1)
index = faiss.index_factory(d, req["factory"])
opq = faiss.downcast_VectorTransform(index.chain.at(0))
opq.niter = req["opqIterations"]
opq.niter_pq_0 = req["opqPqIterationsFirst"]
ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
ivf.pq.cp.niter = req["pqIterations"]
index.train(keys)
index.add(keys)
q = keys[[x["row"] for x in req["queries"]]]
k = req["k"]
widest = max(x["hi"] - x["lo"] for x in req["queries"])
out = {}
for nprobe in req["nprobes"]:
    ivf.nprobe = nprobe
    # k + the own image's entries, then the own image dropped: the filtered top k
    _, ids = index.search(q, k + widest)
    out[str(nprobe)] = [[int(i) for i in row if i >= 0 and not (x["lo"] <= i < x["hi"])][:k] for row, x in zip(ids, req["queries"])]
json.dump(out, sys.stdout)
