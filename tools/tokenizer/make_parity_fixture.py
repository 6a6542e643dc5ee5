"""Write a parity fixture for the engine's tokenizer test: a random-init full-size LlamaGen
VQ-16 exported with export_llamagen, a few 384x384 PNGs and the token grids PyTorch computes.

    /usr/bin/python3 tools/tokenizer/make_parity_fixture.py --out DIR [--seed 0] [--images 2] [--check]

DIR gets manifest.json + encoder.onnx + codebook.npy (no decoder unless --with-decoder),
image-*.png (384x384, so the engine's resize "crop" is the identity) and expected.json:

  {
    "manifest": "manifest.json", "seed": 0, "size": 384, "grid": 24, "codebookSize": 16384, "dim": 8,
    "images": [{
      "file": "image-0-astronaut.png",
      "tokens": [[...24 ints...], ...24 rows],        # PyTorch: L2-normalise latent and codes, nearest by squared L2
      "latentFirst": [...],                             # the first 16 values of the latent, flattened NCHW (batch 0)
      "latentAt00": [...],                              # the d values at grid position (0, 0)
      "latentMaxAbs": 1.23,
      "minMargin": 2e-5,                                # smallest (2nd-best - best) squared distance over the grid
      "ambiguous": [[i, j], ...]                        # positions whose margin is under `tolerance.margin`
    }],
    "tolerance": {"latentAbs": 1e-3, "margin": 1e-3}
  }

Compare with `patchlens tokens DIR/image-0-*.png --model DIR/manifest.json --json`: tokens must match
everywhere except possibly at the listed ambiguous positions (float32 rounding may flip a near tie).
The images come from media/sample/ (committed), resized to 384 on the shorter side and centre-cropped
with PIL. Runtime on 2 CPU cores: about a minute (the full-size encoder at 384 px is ~0.3 TFLOP an image).
--check also runs the exported encoder with onnxruntime-node and compares (needs `npm ci`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_llamagen import build_model  # noqa: E402
from onnx_export import check_parity, export_onnx, write_manifest  # noqa: E402
from vq_model import tokens_from_latent  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLES = ("astronaut.jpg", "coffee.jpg", "forest-path.jpg")


def square_png(src: str, dest: str, size: int) -> np.ndarray:
    im = Image.open(src).convert("RGB")
    s = size / min(im.size)
    im = im.resize((max(size, round(im.width * s)), max(size, round(im.height * s))), Image.LANCZOS)
    l, t = (im.width - size) // 2, (im.height - size) // 2
    im = im.crop((l, t, l + size, t + size))
    im.save(dest, "PNG")
    return np.asarray(Image.open(dest).convert("RGB"))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--images", type=int, default=2, choices=(1, 2, 3))
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--with-decoder", action="store_true")
    ap.add_argument("--check", action="store_true", help="also compare with onnxruntime-node")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    model = build_model(None, args.seed)  # the same model export_llamagen --random-init --seed N writes
    export_onnx(model, args.out, args.size, decoder=args.with_decoder)
    write_manifest(args.out, f"llamagen-vq16-random-seed{args.seed}",
                   f"Randomly initialised LlamaGen VQ-16 (seed {args.seed}): a parity fixture, its tokens mean nothing.",
                   args.size, decoder=args.with_decoder)
    t_export = time.time() - t0

    files, pixels = [], []
    for i, name in enumerate(SAMPLES[: args.images]):
        f = f"image-{i}-{os.path.splitext(name)[0]}.png"
        pixels.append(square_png(os.path.join(ROOT, "media", "sample", name), os.path.join(args.out, f), args.size))
        files.append(f)
    # The engine's preprocessing: RGB in [0,1], (x - 0.5) / 0.5, NCHW float32.
    x = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float().div(255.0).sub(0.5).div(0.5).contiguous()
    with torch.no_grad():
        lat = model.encode_latent(x)
    cb = torch.from_numpy(np.load(os.path.join(args.out, "codebook.npy")))
    tok, margin = tokens_from_latent(lat, cb)
    tol = {"latentAbs": 1e-3, "margin": 1e-3}
    images = []
    for b, f in enumerate(files):
        amb = (margin[b] < tol["margin"]).nonzero().tolist()
        images.append({
            "file": f,
            "tokens": tok[b].tolist(),
            "latentFirst": [round(float(v), 6) for v in lat[b].flatten()[:16]],
            "latentAt00": [round(float(v), 6) for v in lat[b, :, 0, 0]],
            "latentMaxAbs": round(float(lat[b].abs().max()), 6),
            "minMargin": float(margin[b].min()),
            "ambiguous": amb,
        })
    cfg = model.config
    expected = {"manifest": "manifest.json", "seed": args.seed, "size": args.size, "grid": int(lat.shape[-1]),
                "codebookSize": cfg.codebook_size, "dim": cfg.codebook_embed_dim, "images": images, "tolerance": tol}
    with open(os.path.join(args.out, "expected.json"), "w") as fh:
        json.dump(expected, fh)
    report = {"out": os.path.abspath(args.out), "images": files, "export_seconds": round(t_export, 1),
              "seconds": round(time.time() - t0, 1), "distinct_tokens": int(tok.unique().numel()),
              "ambiguous": sum(len(i["ambiguous"]) for i in images)}
    if args.check:
        report["parity"] = check_parity(model, args.out, x.numpy(), decoder=args.with_decoder)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
