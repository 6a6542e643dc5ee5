"""Recall@10 against queries per second for every index of a `npm run bench:index`
result (bench/results/index.json): one panel on one thread, one on all threads.

    /usr/bin/python3 bench/plot.py bench/results/index.json out.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        r = json.load(f)
    pl, fa, data = r["patchlens"], r.get("faiss"), r["data"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), sharey=True)
    panels = ((axes[0], "qps1", "1 thread, wall clock"),
              (axes[1], "qps1Cpu", "1 thread, per CPU-second (robust to other load)"),
              (axes[2], "qpsAll", f"all threads ({r['machine']['cores']}), wall clock"))
    for ax, key, title in panels:
        def curve(points, param, label, style):
            pts = [p for p in points if p.get(key)]
            if not pts:
                return
            ax.plot([p[key] for p in pts], [p["recall10"] for p in pts], style, label=label)
            for p in pts[:: max(1, len(pts) // 5)]:
                ax.annotate(str(p[param]), (p[key], p["recall10"]), textcoords="offset points", xytext=(3, -9), fontsize=7)

        curve(pl["hnsw"]["sweep"], "ef", f"Patch Lens HNSW (hnswlib-node, M={pl['hnsw']['params']['m']}), ef", "o-")
        if fa and fa.get("hnsw"):
            curve(fa["hnsw"]["sweep"], "ef", f"FAISS IndexHNSWFlat (M={fa['hnsw']['m']}), efSearch", "s--")
        if fa and fa.get("ivfpq"):
            curve(fa["ivfpq"]["sweep"], "nprobe", f"FAISS {fa['ivfpq']['factory']} (AR-RAG), nprobe", "^-.")
        ex = pl["exact"]
        if ex.get(key):
            ax.plot([ex[key]], [1.0], "kx", markersize=9, label="Patch Lens exact")
        if fa and fa["flat"].get(key):
            ax.plot([fa["flat"][key]], [1.0], "k+", markersize=11, label="FAISS IndexFlatL2")
        ax.axhline(0.95, color="grey", lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("queries per CPU-second (k = 10)" if key == "qps1Cpu" else "queries per second (k = 10)")
        ax.set_title(title)
        ax.grid(True, which="both", lw=0.3)
    axes[0].set_ylabel("recall@10")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{data['entries']:,} patch keys ({data['dim']}-d causal h=1, {data['modelName']}), {data['queries']} held-out queries", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
