"""Export the trained bundled tokenizer to media/models/patchlens-vq16/ and write its model card.

    /usr/bin/python3 tools/tokenizer/export_bundled.py [--run patchlens-vq16]

Reads .cache/tokenizer/<run>/final.pt and metrics.json (from train.py), writes
encoder.onnx, decoder.onnx, codebook.npy, manifest.json, reconstructions.jpg and
MODEL_CARD.md, and checks parity with onnxruntime-node on the held-out photos
(engine views): latents' max abs difference, identical tokens, decoder difference.
It also re-measures the held-out PSNR through the exported ONNX graphs (encoder ->
engine quantisation rule -> decoder), which must match the PyTorch figure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset as D  # noqa: E402
import photos as P  # noqa: E402
from baseline import PatchPCAKMeans  # noqa: E402
from onnx_export import OPSET, check_parity, export_onnx, ort_run, write_manifest  # noqa: E402
from train import code_stats  # noqa: E402
from vq_model import VQConfig, VQModel, count_params, tokens_from_latent  # noqa: E402

OUT = os.path.join(P.ROOT, "media", "models", "patchlens-vq16")
SIZE = 256


def onnx_heldout(out_dir: str, crops: np.ndarray, labels, k: int) -> dict:
    """Held-out PSNR through the exported graphs, quantising with the engine's rule."""
    x = D.to_tensor(crops).numpy()
    lat = torch.from_numpy(ort_run(os.path.join(out_dir, "encoder.onnx"), x))
    cb = torch.from_numpy(np.load(os.path.join(out_dir, "codebook.npy")))
    tok, _ = tokens_from_latent(lat, cb)
    code = cb[tok].permute(0, 3, 1, 2).contiguous().numpy()
    rec = torch.from_numpy(ort_run(os.path.join(out_dir, "decoder.onnx"), code))
    psnr = D.psnr_u8(D.to_u8(rec), crops)
    engine = np.array([l.endswith("short256-centre") for l in labels])
    return {"psnr_mean": float(psnr.mean()), "psnr_engine_view": float(psnr[engine].mean()),
            **code_stats(tok.numpy(), k)}


@torch.no_grad()
def figure(model: VQModel, bl: PatchPCAKMeans, crops: np.ndarray, labels, path: str) -> None:
    """Original / model / baseline for the held-out engine views, as one small JPEG."""
    idx = [i for i, l in enumerate(labels) if l.endswith("short256-centre")][:6]
    orig = crops[idx]
    rec_m = D.to_u8(model(D.to_tensor(orig))[0])
    rec_b, _ = bl.reconstruct(orig)
    t = 160
    sheet = Image.new("RGB", (len(idx) * t, 3 * t + 36), "white")
    draw = ImageDraw.Draw(sheet)
    for c, i in enumerate(idx):
        for r, img in enumerate((orig[c], rec_m[c], rec_b[c])):
            sheet.paste(Image.fromarray(img).resize((t, t), Image.LANCZOS), (c * t, r * t))
        draw.text((c * t + 3, 3 * t + 2), labels[i].split("/")[0][:22], fill="black")
    draw.text((3, 3 * t + 18), "rows: held-out photo (256 px engine view) | patchlens-vq16 | PCA + k-means baseline",
              fill="black")
    sheet.save(path, "JPEG", quality=85, optimize=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="patchlens-vq16")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    run = os.path.join(D.CACHE, args.run)
    ck = torch.load(os.path.join(run, "final.pt"))
    with open(os.path.join(run, "metrics.json")) as f:
        metrics = json.load(f)
    cfg = VQConfig.from_json(ck["config"])
    model = VQModel(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    k, d = cfg.codebook_size, cfg.codebook_embed_dim
    g = SIZE // cfg.downsample_factor

    desc = (f"Patch Lens' bundled VQ tokenizer: a small LlamaGen-layout VQ autoencoder trained on CPU on freely "
            f"licensed photos. {SIZE}px input, {g}x{g} tokens, codebook {k}x{d} (L2-normalised).")
    export_onnx(model, args.out, SIZE)
    write_manifest(args.out, "patchlens-vq16", desc, SIZE)

    crops, labels = D.heldout_eval(SIZE)
    views = crops[[i for i, l in enumerate(labels) if l.endswith("short256-centre")]]
    parity = check_parity(model, args.out, D.to_tensor(views).numpy())
    onnx_metrics = onnx_heldout(args.out, crops, labels, k)
    bl = PatchPCAKMeans.load(os.path.join(run, f"baseline-K{k}-d{d}.npz"))
    figure(model, bl, crops, labels, os.path.join(args.out, "reconstructions.jpg"))

    sizes = {f: os.path.getsize(os.path.join(args.out, f)) for f in sorted(os.listdir(args.out))}
    report = {"parity": parity, "onnx_heldout": onnx_metrics, "sizes": sizes, "opset": OPSET}
    with open(os.path.join(run, "export.json"), "w") as f:
        json.dump(report, f, indent=2)
    write_card(args.out, cfg, model, metrics, report)
    print(json.dumps(report, indent=2))
    if not parity["tokens_identical"]:
        raise SystemExit("parity check failed: tokens differ between PyTorch and onnxruntime-node")


def write_card(out_dir: str, cfg: VQConfig, model: VQModel, metrics: dict, report: dict) -> None:
    m, b, t = metrics["model"], metrics["baseline"], metrics["training"]
    p, o = report["parity"], report["onnx_heldout"]
    g = SIZE // cfg.downsample_factor
    widths = [cfg.ch * x for x in cfg.encoder_ch_mult]
    total = sum(v for f, v in report["sizes"].items() if f in ("encoder.onnx", "decoder.onnx", "codebook.npy"))
    mb = lambda n: f"{n / 1e6:.2f} MB"  # noqa: E731
    rows = "\n".join(f"| `{f}` | {mb(v)} |" for f, v in report["sizes"].items())
    held = ", ".join(f"`{n}`" for n in t["heldout_photos"])
    a = t["args"]
    card = f"""# patchlens-vq16: model card

The tokenizer Patch Lens ships and uses by default. It is a VQ autoencoder with the
module layout and parameter names of LlamaGen's VQ-16 (the tokenizer Janus-Pro
uses), shrunk to run and train on a CPU: it maps an image to a grid of discrete
tokens the way LlamaGen does, so the patch database, neighbourhood keys and
retrieval behave as they would with the real tokenizer, at toy scale.
It is not LlamaGen's model and its tokens are not interchangeable with LlamaGen's;
for those, export the real checkpoint (`tools/tokenizer/export_llamagen.py`).

## Interface

| | |
|---|---|
| Input | RGB, {SIZE}x{SIZE}, resize `crop` (shorter side to {SIZE}, centre crop), pixels in [0,1] then (x - 0.5) / 0.5 |
| Token grid | {g}x{g} (16x downsampling) |
| Codebook | K = {cfg.codebook_size}, d = {cfg.codebook_embed_dim}, rows L2-normalised (`codebook.npy`, float32 [{cfg.codebook_size},{cfg.codebook_embed_dim}]) |
| Quantisation | L2-normalise the latent, nearest codebook row by squared L2 (= highest cosine), as LlamaGen |
| `encoder.onnx` | `image` float32 [B,3,{SIZE},{SIZE}] -> `latent` float32 [B,{cfg.codebook_embed_dim},{g},{g}]: `quant_conv` output, before normalisation and quantisation |
| `decoder.onnx` | `code` float32 [B,{cfg.codebook_embed_dim},{g},{g}] (codebook rows) -> `image` float32 [B,3,{SIZE},{SIZE}] in [-1,1] space |
| ONNX | opset {report['opset']}, dynamic batch axis, exported from PyTorch 1.13 |

## Architecture

LlamaGen's `VQModel` layout (`tools/tokenizer/vq_model.py`): encoder `conv_in` ->
5 levels of `conv_blocks[i].res[j]` (ResnetBlock: GroupNorm, swish, 3x3 conv, twice,
1x1 `nin_shortcut` when widths change) with `attn[j]` (single-head self-attention)
on the last level and a `downsample` (pad (0,1,0,1) + stride-2 3x3 conv) after every
level but the last -> `mid` (res, attn, res) -> `norm_out` + swish -> `conv_out`;
`quant_conv` (1x1) to d = {cfg.codebook_embed_dim}; `quantize.embedding` ({cfg.codebook_size} x {cfg.codebook_embed_dim});
`post_quant_conv` and a mirrored decoder (`num_res_blocks + 1` blocks a level, nearest
upsampling + 3x3 conv).

| | patchlens-vq16 | LlamaGen VQ-16 |
|---|---|---|
| `ch`, `ch_mult` (widths) | {cfg.ch}, {cfg.encoder_ch_mult} ({'-'.join(map(str, widths))}) | 128, [1,1,2,2,4] (128-128-256-256-512) |
| `num_res_blocks` | {cfg.num_res_blocks} | 2 |
| `z_channels` | {cfg.z_channels} | 256 |
| codebook | {cfg.codebook_size} x {cfg.codebook_embed_dim}, L2-normalised | 16384 x 8, L2-normalised |
| GroupNorm groups | {cfg.norm_groups} | 32 |
| parameters | {count_params(model) / 1e6:.2f} M (encoder {count_params(model.encoder) / 1e6:.2f} M, decoder {count_params(model.decoder) / 1e6:.2f} M) | 71.9 M |
| input / grid | {SIZE} px / {g}x{g} | 256 or 384 px / 16x16 or 24x24 |

## Training

- **Data**: random crops of {len(t['train_photos'])} freely licensed photographs from Debian 12 packages
  (`lomiri-wallpapers-16.04`, `lomiri-wallpapers-20.04`, `mate-backgrounds` (nature),
  `plasma-workspace-wallpapers` (photographs only) and `python3-skimage`'s sample photos, not its
  synthetic figures). Each photo is used at shorter side 256, 384, 512, 768 and 1024 px (never
  upscaled) with horizontal flips. Authors and licences: `media/sample/ATTRIBUTION.md` (every training
  and held-out photo is also in the sample dataset, downscaled) and `tools/tokenizer/photos.py`.
- **Held-out split** (whole photos, never trained on): {held}.
- **Recipe** (`tools/tokenizer/train.py`): LlamaGen's losses without the perceptual and GAN terms:
  MSE + {a['l1']} x L1 reconstruction in [-1,1] space, codebook loss ||sg(z) - e||^2 and commitment
  {cfg.commit_loss_beta} x ||z - sg(e)||^2 on L2-normalised vectors, straight-through gradients. Against codebook
  collapse: L2-normalised codes in d = {cfg.codebook_embed_dim}, a {a['ae_steps']}-step autoencoder warm-up without
  quantisation, codebook initialised by spherical k-means on {a['kmeans_batches'] * a['batch'] * (a['crop'] // 16) ** 2}
  encoder latents, and codes unused during a {a['restart_every']}-step window restarted on random recent
  latents ({t['restarted_codes']} restarts in all). Adam (0.9, 0.95), peak lr {a['lr']}, cosine decay over
  the wall-clock budget; batches of {a.get('early_batch', a['batch'])} crops of {a.get('early_crop', a['crop'])} px for the first
  {int(a.get('early_frac', 0) * 100)}% of the time, then {a['batch']} crops of {a['crop']} px, then {a['final_batch']} crops of
  {a['final_crop']} px (the model's input) for the last {int(a['final_frac'] * 100)}%.
- **Initialisation** (`train.py`, `blockmean_init`; only initial values, the computation is LlamaGen's):
  the untrained network is set up as a near-linear block-mean autoencoder: residual branches start
  at zero, downsampling convs average 2x2 pixels, upsampling convs and width-changing shortcuts are
  identities, `conv_in` carries RGB and -RGB (so GroupNorm's per-image mean does not depend on the
  colour), a constant channel before each `norm_out` keeps GroupNorm from normalising away absolute
  colour, the latent is (block colour, constant) and the decoder's `conv_out` is a least-squares
  read-out; a little noise lets the unused code dimensions learn. It starts at about the PSNR of 16x16
  block averages. From PyTorch's default initialisation this small, deep, narrow network learned
  several times slower (first attempts, abandoned: 14-15 dB after 400 steps).
- **Compute**: {t['steps']} steps in {t['minutes']:.0f} minutes of wall-clock time on a shared 2-core CPU
  machine without a GPU ({t['threads']} PyTorch thread, `nice -n 10`, other jobs running). Trained once;
  never trained in CI.

## Results on the held-out photos

{m['crops']} crops of 256 px from the {len(t['heldout_photos'])} held-out photos: per photo the engine's view
(shorter side 256, centre crop), centre crops at shorter side 384, 512 and 768, and the four corner crops
at 512. PSNR on 8-bit RGB, averaged over crops; codebook usage = fraction of the {cfg.codebook_size} codes that
occur among the {m['tokens']} held-out tokens; perplexity = exp(entropy) of their token histogram.

| | patchlens-vq16 | baseline: patch PCA + k-means |
|---|---|---|
| PSNR, all {m['crops']} crops | **{m['psnr_mean']:.2f} dB** | {b['psnr_mean']:.2f} dB |
| PSNR, engine views only ({len(t['heldout_photos'])}) | **{m['psnr_engine_view']:.2f} dB** | {b['psnr_engine_view']:.2f} dB |
| codebook usage | {m['usage']:.1%} ({m['codes_used']} codes) | {b['usage']:.1%} ({b['codes_used']} centroids) |
| perplexity | {m['perplexity']:.0f} | {b['perplexity']:.0f} |

The model is {m['psnr_mean'] - b['psnr_mean']:+.2f} dB over the baseline on all crops
({m['psnr_engine_view'] - b['psnr_engine_view']:+.2f} dB on the engine views).
The **baseline** codes each 16x16 patch (the same footprint, K and d as a token) as the
nearest of {cfg.codebook_size} k-means centroids of the patches' top-{cfg.codebook_embed_dim} principal components
(fitted on 200 000 training patches; PCA-{cfg.codebook_embed_dim} keeps {b['pca_explained_variance']:.1%} of the variance)
and decodes by the PCA inverse; without quantisation the PCA alone reaches {b['psnr_pca_unquantised']:.2f} dB.
Through the exported ONNX graphs (onnxruntime-node encoder, the engine's quantisation rule,
onnxruntime-node decoder) the held-out PSNR is {o['psnr_mean']:.2f} dB (engine views {o['psnr_engine_view']:.2f} dB).

![held-out reconstructions](reconstructions.jpg)

Reconstructions are blurry: {cfg.codebook_size} codes for a 16x16 patch is 12 bits for 768 values, and the model
is trained with pixel losses only. The tokens are what Patch Lens needs; the decoder is
there to show what a token grid keeps.

## Export parity (PyTorch vs onnxruntime-node)

On the {p['images']} held-out engine views: latents max abs difference {p['latent_max_abs_diff']:.2e}
(latents up to {p['latent_max_abs']:.2f} in magnitude), tokens identical: **{'yes' if p['tokens_identical'] else 'no'}**
({p['tokens_total'] - p['tokens_differing']}/{p['tokens_total']}), decoder max abs difference {p['decoder_max_abs_diff']:.2e}.

## Files

{rows}

encoder + decoder + codebook: {mb(total)}.

## Re-running

```sh
/usr/bin/python3 tools/tokenizer/photos.py fetch            # apt-get download + dpkg -x into .cache/photos/
OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 tools/tokenizer/train.py --minutes {a['minutes']:.0f} --threads 1
/usr/bin/python3 tools/tokenizer/export_bundled.py          # this folder, parity check and this card
```

The wall-clock budget drives the schedule, so a re-run on another machine reaches a
different number of steps; figures here are from the run that produced these files.

## Limits

Tiny model, {len(t['train_photos'])} training photos and {t['minutes']:.0f} minutes of a shared CPU: fine for exploring the
method and the tool, not a substitute for LlamaGen's tokenizer (trained on ImageNet / LAION
with perceptual and adversarial losses). Tokens of this model and of LlamaGen/Janus-Pro
are unrelated. The held-out set is small ({len(t['heldout_photos'])} photos), so the figures are indicative.
"""
    with open(os.path.join(out_dir, "MODEL_CARD.md"), "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
