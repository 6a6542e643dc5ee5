"""Export a VQModel to the engine's format and check parity with onnxruntime-node.

Writes into a folder:
  encoder.onnx   image  float32 [B,3,H,W] in [-1,1]  ->  latent float32 [B,d,G,G] (quant_conv output,
                 before L2 normalisation and quantisation)
  decoder.onnx   code   float32 [B,d,G,G] (codebook rows) ->  image float32 [B,3,H,W] in [-1,1] space
  codebook.npy   float32 [K,d], the L2-normalised codebook rows
  manifest.json  patchlens.model/v1 (see src/core/modelManifest.ts)

Both graphs have a dynamic batch axis. Parity: the same inputs go through PyTorch and
through onnxruntime-node (tools/tokenizer/ort_run.js); the check reports the latents'
max abs difference, whether the token grids (L2-normalise + nearest code, the engine's
rule) are identical, and the decoder's max abs difference.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Optional

import numpy as np
import torch

from vq_model import DecoderForExport, EncoderForExport, VQModel, tokens_from_latent

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ORT_RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run.js")
OPSET = 17


def export_onnx(model: VQModel, out_dir: str, size: int, decoder: bool = True, opset: int = OPSET) -> None:
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    g = size // model.config.downsample_factor
    d = model.config.codebook_embed_dim
    with torch.no_grad():
        torch.onnx.export(EncoderForExport(model), torch.zeros(1, 3, size, size), os.path.join(out_dir, "encoder.onnx"),
                          input_names=["image"], output_names=["latent"], opset_version=opset,
                          dynamic_axes={"image": {0: "batch"}, "latent": {0: "batch"}}, do_constant_folding=True)
        if decoder:
            torch.onnx.export(DecoderForExport(model), torch.zeros(1, d, g, g), os.path.join(out_dir, "decoder.onnx"),
                              input_names=["code"], output_names=["image"], opset_version=opset,
                              dynamic_axes={"code": {0: "batch"}, "image": {0: "batch"}}, do_constant_folding=True)
    np.save(os.path.join(out_dir, "codebook.npy"), model.quantize.codebook().detach().float().numpy().astype(np.float32))


def write_manifest(out_dir: str, name: str, description: str, size: int, decoder: bool = True) -> dict:
    m = {
        "format": "patchlens.model/v1",
        "name": name,
        "description": description,
        "encoder": "encoder.onnx",
        "input": {"name": "image", "width": size, "height": size, "resize": "crop", "channels": "RGB",
                  "layout": "NCHW", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "latent": {"output": "latent", "layout": "NCHW", "normalize": True},
        "codebook": {"path": "codebook.npy", "normalize": True},
    }
    if decoder:
        m["decoder"] = {"path": "decoder.onnx", "input": "code", "output": "image", "layout": "NCHW"}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")
    return m


def ort_run(model_path: str, x: np.ndarray, output: Optional[str] = None) -> np.ndarray:
    """Runs an ONNX graph with onnxruntime-node (needs `npm ci` at the repository root)."""
    with tempfile.TemporaryDirectory() as tmp:
        i, o = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(i, np.ascontiguousarray(x, dtype=np.float32))
        cmd = ["node", ORT_RUN, model_path, i, o] + ([output] if output else [])
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed ({' '.join(cmd)}):\n{r.stderr}")
        return np.load(o)


@torch.no_grad()
def check_parity(model: VQModel, out_dir: str, images: np.ndarray, decoder: bool = True) -> dict:
    """images: float32 [B,3,H,W] in [-1,1]. Returns parity figures; raises if tokens differ."""
    model.eval()
    x = torch.from_numpy(images)
    lat_pt = model.encode_latent(x)
    lat_ort = torch.from_numpy(ort_run(os.path.join(out_dir, "encoder.onnx"), images))
    cb = torch.from_numpy(np.load(os.path.join(out_dir, "codebook.npy")))
    tok_pt, margin = tokens_from_latent(lat_pt, cb)
    tok_ort, _ = tokens_from_latent(lat_ort, cb)
    same = (tok_pt == tok_ort)
    res = {
        "images": int(images.shape[0]),
        "latent_shape": list(lat_ort.shape),
        "latent_max_abs_diff": float((lat_pt - lat_ort).abs().max()),
        "latent_max_abs": float(lat_pt.abs().max()),
        "tokens_identical": bool(same.all()),
        "tokens_differing": int((~same).sum()),
        "tokens_total": int(same.numel()),
        "min_token_margin": float(margin.min()),
    }
    if decoder:
        code = cb[tok_pt].permute(0, 3, 1, 2).contiguous()
        img_pt = model.decode(code)
        img_ort = torch.from_numpy(ort_run(os.path.join(out_dir, "decoder.onnx"), code.numpy()))
        res["decoder_max_abs_diff"] = float((img_pt - img_ort).abs().max())
        res["image_shape"] = list(img_ort.shape)
    return res
