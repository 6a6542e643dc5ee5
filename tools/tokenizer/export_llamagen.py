"""Export a LlamaGen VQ-16 or Janus-Pro vision tokenizer for Patch Lens.

    /usr/bin/python3 tools/tokenizer/export_llamagen.py --checkpoint vq_ds16_t2i.pt --out DIR
    /usr/bin/python3 tools/tokenizer/export_llamagen.py --janus --checkpoint Janus-Pro-7B/ --out DIR
    /usr/bin/python3 tools/tokenizer/export_llamagen.py --random-init --seed 0 --out DIR

Writes DIR/encoder.onnx, decoder.onnx, codebook.npy (L2-normalised rows) and
manifest.json (384 px input, resize "crop", mean/std 0.5, L2-normalised latents and
codes: a 24x24 token grid), then checks parity with onnxruntime-node unless --no-parity.

Checkpoints understood:
  * LlamaGen (vq_ds16_c2i.pt, vq_ds16_t2i.pt): a torch pickle, state dict under "model"
    (or "ema", or at the top level). Loaded with strict=True into the full-size VQ-16.
  * Janus / Janus-Pro, DeepSeek's release (deepseek-ai/Janus-Pro-1B, -7B): the tokenizer is
    the LlamaGen VQ-16 stored inside the whole model under "gen_vision_model."; give the
    folder (pytorch_model.bin or sharded with pytorch_model.bin.index.json; .safetensors
    also read) or one file. Only the shards holding gen_vision_model.* are read.
  * Janus in the Hugging Face transformers layout (JanusForConditionalGeneration,
    "model.vqmodel." with encoder.down / decoder.up / block / mid.block_1 ... names):
    renamed back to LlamaGen's names. That layout drops the codebook_used buffer.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys
import time
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_export import check_parity, export_onnx, write_manifest  # noqa: E402
from vq_model import VQConfig, VQModel  # noqa: E402

JANUS_PREFIX = "gen_vision_model."
HF_PREFIX = "model.vqmodel."

# ---------------------------------------------------------------- checkpoint reading

_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
              "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path: str, want=lambda k: True) -> Dict[str, torch.Tensor]:
    """Minimal .safetensors reader (no dependency): reads only the tensors whose name passes `want`."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        for name, meta in header.items():
            if name == "__metadata__" or not want(name):
                continue
            a, b = meta["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            shape = meta["shape"]
            if meta["dtype"] == "BF16":  # bfloat16 = the high half of a float32
                u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
                arr = u.view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=_ST_DTYPES[meta["dtype"]])
            out[name] = torch.from_numpy(arr.reshape(shape).copy())
    return out


def _torch_load(path: str) -> dict:
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict):
        for key in ("model", "ema", "state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
    return obj


def _files_for(folder: str, want) -> List[str]:
    """The checkpoint files of a folder, narrowed by its index to the shards holding wanted keys."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        p = os.path.join(folder, index)
        if os.path.exists(p):
            with open(p) as f:
                wm = json.load(f)["weight_map"]
            return sorted({os.path.join(folder, v) for k, v in wm.items() if want(k)})
    for single in ("model.safetensors", "pytorch_model.bin"):
        p = os.path.join(folder, single)
        if os.path.exists(p):
            return [p]
    files = sorted(f for f in os.listdir(folder) if f.endswith((".safetensors", ".bin", ".pt", ".pth")))
    if not files:
        raise SystemExit(f"{folder}: no checkpoint files found")
    return [os.path.join(folder, f) for f in files]


def read_checkpoint(path: str, want=lambda k: True) -> Dict[str, torch.Tensor]:
    files = _files_for(path, want) if os.path.isdir(path) else [path]
    sd: Dict[str, torch.Tensor] = {}
    for f in files:
        print(f"reading {f}", flush=True)
        if f.endswith(".safetensors"):
            sd.update(read_safetensors(f, want))
        else:
            sd.update({k: v for k, v in _torch_load(f).items() if want(k)})
    return sd


def hf_janus_to_llamagen(key: str) -> str:
    """model.vqmodel.* (transformers' Janus layout) -> LlamaGen's names."""
    k = key[len(HF_PREFIX):]
    k = re.sub(r"^encoder\.down\.", "encoder.conv_blocks.", k)
    k = re.sub(r"^decoder\.up\.", "decoder.conv_blocks.", k)
    k = re.sub(r"^(encoder|decoder)\.conv_blocks\.(\d+)\.block\.", r"\1.conv_blocks.\2.res.", k)
    k = re.sub(r"^(encoder|decoder)\.mid\.block_1\.", r"\1.mid.0.", k)
    k = re.sub(r"^(encoder|decoder)\.mid\.attn_1\.", r"\1.mid.1.", k)
    k = re.sub(r"^(encoder|decoder)\.mid\.block_2\.", r"\1.mid.2.", k)
    return k


def load_tokenizer_state(path: str, janus: bool) -> Dict[str, torch.Tensor]:
    if not janus:
        sd = read_checkpoint(path)
        if any(k.startswith(JANUS_PREFIX) for k in sd) or any(k.startswith(HF_PREFIX) for k in sd):
            raise SystemExit("this looks like a Janus checkpoint: add --janus")
        return {k: v.float() for k, v in sd.items()}
    sd = read_checkpoint(path, lambda k: k.startswith(JANUS_PREFIX) or k.startswith(HF_PREFIX))
    if any(k.startswith(JANUS_PREFIX) for k in sd):
        return {k[len(JANUS_PREFIX):]: v.float() for k, v in sd.items() if k.startswith(JANUS_PREFIX)}
    if any(k.startswith(HF_PREFIX) for k in sd):
        return {hf_janus_to_llamagen(k): v.float() for k, v in sd.items() if k.startswith(HF_PREFIX)}
    raise SystemExit(f"{path}: no {JANUS_PREFIX}* or {HF_PREFIX}* tensors found")


def build_model(sd: Optional[Dict[str, torch.Tensor]], seed: int) -> VQModel:
    """Full-size VQ-16; codebook size and dim follow the checkpoint. strict=True loading."""
    cfg = VQConfig.llamagen_vq16()
    if sd is not None:
        k, d = sd["quantize.embedding.weight"].shape
        cfg.codebook_size, cfg.codebook_embed_dim = int(k), int(d)
        cfg.codebook_show_usage = "quantize.codebook_used" in sd
    torch.manual_seed(seed)
    model = VQModel(cfg)
    if sd is not None:
        model.load_state_dict(sd, strict=True)
    return model.eval()


def parity_images(size: int, n: int = 2) -> np.ndarray:
    """A few test inputs in [-1,1]: held-out photos when the photo cache exists, else smooth noise."""
    try:
        import dataset as D
        import photos as P
        hold = [p for p in P.by_split("heldout") if os.path.exists(p.path)][:n]
        if len(hold) == n:
            return D.to_tensor(np.stack([np.asarray(D.engine_view(P.load_rgb(p, 2048), size)) for p in hold])).numpy()
    except Exception:  # pragma: no cover - any failure falls back to noise
        pass
    g = torch.Generator().manual_seed(1)
    x = torch.nn.functional.interpolate(torch.rand(n, 3, size // 16, size // 16, generator=g), size=(size, size),
                                        mode="bilinear", align_corners=False)
    return (x * 2 - 1).numpy()


def main(argv: Optional[Iterable[str]] = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="LlamaGen .pt, or a Janus checkpoint file/folder with --janus")
    src.add_argument("--random-init", action="store_true", help="randomly initialised full-size VQ-16 (tests)")
    ap.add_argument("--janus", action="store_true", help="read the tokenizer out of a Janus / Janus-Pro checkpoint")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0, help="seed for --random-init")
    ap.add_argument("--size", type=int, default=384, help="input size (Janus-Pro: 384 -> 24x24 tokens)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--no-decoder", action="store_true", help="skip decoder.onnx (it is optional in the manifest)")
    ap.add_argument("--no-parity", action="store_true", help="skip the onnxruntime-node parity check")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    t0 = time.time()
    sd = None if args.random_init else load_tokenizer_state(args.checkpoint, args.janus)
    model = build_model(sd, args.seed)
    cfg = model.config
    g = args.size // cfg.downsample_factor
    if args.random_init:
        name = args.name or f"llamagen-vq16-random-seed{args.seed}"
        desc = f"Randomly initialised LlamaGen VQ-16 (seed {args.seed}), for tests only: its tokens mean nothing."
    else:
        name = args.name or ("janus-pro-vq16" if args.janus else "llamagen-vq16")
        desc = (f"{'Janus-Pro vision tokenizer (LlamaGen VQ-16)' if args.janus else 'LlamaGen VQ-16'} from "
                f"{os.path.basename(os.path.normpath(args.checkpoint))}: {args.size}px, {g}x{g} tokens, "
                f"codebook {cfg.codebook_size}x{cfg.codebook_embed_dim} (L2-normalised).")
    export_onnx(model, args.out, args.size, decoder=not args.no_decoder)
    write_manifest(args.out, name, desc, args.size, decoder=not args.no_decoder)
    report = {"out": os.path.abspath(args.out), "grid": g, "codebook": [cfg.codebook_size, cfg.codebook_embed_dim],
              "export_seconds": round(time.time() - t0, 1)}
    if not args.no_parity:
        report["parity"] = check_parity(model, args.out, parity_images(args.size), decoder=not args.no_decoder)
    print(json.dumps(report, indent=2))
    if not args.no_parity and not report["parity"]["tokens_identical"]:
        print(f"warning: {report['parity']['tokens_differing']} tokens differ between PyTorch and onnxruntime "
              f"(smallest decision margin {report['parity']['min_token_margin']:.2e})", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
