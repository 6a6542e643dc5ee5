"""Train the bundled Patch Lens tokenizer (and its PCA + k-means baseline) on CPU.

    OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 tools/tokenizer/train.py --minutes 60

Runs for a wall-clock budget (the learning-rate schedule and the crop-size schedule follow
elapsed time, so the run ends annealed whatever the machine's speed), checkpoints every few
minutes to .cache/tokenizer/<run>/ckpt.pt (restart with --resume), and ends with final.pt
and metrics.json (held-out PSNR of model and baseline, codebook usage, perplexity).

Recipe (see MODEL_CARD.md): LlamaGen-style losses (MSE + L1 reconstruction, codebook loss,
commitment 0.25) on L2-normalised 8-d codes. The network starts as a block-mean autoencoder
(blockmean_init: only initial values), warms up without quantisation, then the codebook is
initialised by spherical k-means on the encoder's normalised latents, and codes unused for a
window of steps are restarted on recent latents. Crops of 64 px, then 128 px, then 256 px
(the model's input). One thread by default: on a shared machine two OpenMP threads spin and
cost several times the CPU per step. --procs N runs N data-parallel processes (gloo).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset as D  # noqa: E402
import photos as P  # noqa: E402
from baseline import PatchPCAKMeans, kmeans  # noqa: E402
from vq_model import VQConfig, VQModel, count_params, swish  # noqa: E402


def small_config(k: int = 4096, d: int = 8) -> VQConfig:
    """The bundled model: 16x downsampling, narrow widths (8-16-32-64-64 channels, about 1.1 M parameters)."""
    return VQConfig(ch=8, encoder_ch_mult=[1, 2, 4, 8, 8], decoder_ch_mult=[1, 2, 4, 8, 8], num_res_blocks=1,
                    z_channels=64, codebook_size=k, codebook_embed_dim=d, codebook_l2_norm=True,
                    codebook_show_usage=False, commit_loss_beta=0.25, entropy_loss_ratio=0.0, dropout_p=0.0,
                    norm_groups=1)


def zero_init_residuals(model: VQModel) -> None:
    """Start every residual branch at zero (conv2 of each ResnetBlock, proj_out of each AttnBlock), so
    the untrained network is shallow and learns fast; names and shapes are unchanged."""
    from vq_model import AttnBlock, ResnetBlock
    for m in model.modules():
        last = m.conv2 if isinstance(m, ResnetBlock) else m.proj_out if isinstance(m, AttnBlock) else None
        if last is not None:
            torch.nn.init.zeros_(last.weight)
            torch.nn.init.zeros_(last.bias)


def identity_path_init(model: VQModel, const: float = 10.0) -> None:
    """Start the skip path as a near-linear block-mean autoencoder, so training starts from there:

    * every Downsample conv averages 2x2 pixels channel by channel, every Upsample conv is the identity
      (after nearest upsampling), every nin_shortcut passes its first min(in, out) channels through;
      with the residual branches at zero (zero_init_residuals) the encoder outputs block averages of
      conv_in's features and the decoder spreads a code over its 16x16 block;
    * a constant channel of value `const` enters the residual stream just before each norm_out, so
      that GroupNorm's per-image mean and variance are dominated by it and absolute colour and
      brightness pass through instead of being normalised away (a deep net otherwise needs thousands
      of steps to grow such a channel itself).
    Only initial values change: names, shapes and the computation are LlamaGen's."""
    from vq_model import Downsample, ResnetBlock, Upsample
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, Downsample):
                w = torch.zeros_like(m.conv.weight)
                for c in range(w.shape[0]):
                    w[c, c, :2, :2] = 0.25
                m.conv.weight.copy_(w)
                m.conv.bias.zero_()
            elif isinstance(m, Upsample):
                w = torch.zeros_like(m.conv.weight)
                for c in range(w.shape[0]):
                    w[c, c, 1, 1] = 1.0
                m.conv.weight.copy_(w)
                m.conv.bias.zero_()
            elif isinstance(m, ResnetBlock) and hasattr(m, "nin_shortcut"):
                w = torch.zeros_like(m.nin_shortcut.weight)
                for c in range(min(w.shape[0], w.shape[1])):
                    w[c, c, 0, 0] = 1.0
                m.nin_shortcut.weight.copy_(w)
                m.nin_shortcut.bias.zero_()
        model.encoder.mid[2].conv2.bias[-1] += const
        model.decoder.conv_blocks[-1].res[-1].conv2.bias[-1] += const


@torch.no_grad()
def blockmean_init(model: VQModel, x: torch.Tensor, const: float = 10.0, code_const: float = 3.0,
                   noise: float = 0.01) -> None:
    """Initial values that make the untrained network a block-mean autoencoder (about the PSNR of 16x16
    block averages), so training starts from there instead of from noise. On top of identity_path_init:
    conv_in puts RGB in channels 0-2 and -RGB in channels 3-5 (so GroupNorm's per-image mean does not
    depend on the colour), the downsampling path averages them over 16x16 blocks, the encoder's conv_out
    and quant_conv turn them and the constant channel into the latent (r, g, b, code_const, 0, 0, 0, 0):
    after L2 normalisation the code's direction holds the block colour. The decoder carries code channels
    0-2 (and their negatives) through its identity path to norm_out, and conv_out, a linear read-out, is
    fitted by least squares on the batch x. norm_out biases of +4 keep swish near-linear; a little noise on
    the 1x1/3x3 maps around the code lets the unused code dimensions learn. Only initial
    values change; the computation is LlamaGen's."""
    zero_init_residuals(model)
    identity_path_init(model, const)
    enc, dec = model.encoder, model.decoder
    ce = enc.norm_out.num_channels
    cd = dec.norm_out.num_channels
    enc.conv_in.weight.zero_(); enc.conv_in.bias.zero_()
    for c in range(3):
        enc.conv_in.weight[c, c, 1, 1] = 1.0
        enc.conv_in.weight[3 + c, c, 1, 1] = -1.0
    enc.norm_out.bias.zero_(); enc.norm_out.bias[:6] = 4.0
    enc.conv_out.weight.zero_(); enc.conv_out.bias.zero_()
    for c in range(3):  # swish(4 + u) - swish(4 - u) ~ 2u: the offsets cancel
        enc.conv_out.weight[c, c, 1, 1] = 1.0
        enc.conv_out.weight[c, 3 + c, 1, 1] = -1.0
    enc.conv_out.weight[3, ce - 1, 1, 1] = 1.0
    h = swish(enc.norm_out(enc.trunk(x)))
    k_val = float(h[:, ce - 1].mean())  # swish of the normalised constant channel
    qc = model.quant_conv
    qc.weight.zero_(); qc.bias.zero_()
    for c in range(3):
        qc.weight[c, c, 0, 0] = 1.0
    qc.weight[3, 3, 0, 0] = code_const / k_val
    pq = model.post_quant_conv
    pq.weight.zero_(); pq.bias.zero_()
    dec.conv_in.weight.zero_(); dec.conv_in.bias.zero_()
    for c in range(3):
        pq.weight[c, c, 0, 0] = 1.0
        pq.weight[3 + c, c, 0, 0] = -1.0
    for c in range(6):
        dec.conv_in.weight[c, c, 1, 1] = 1.0
    dec.norm_out.bias.zero_(); dec.norm_out.bias[:6] = 4.0
    g = torch.Generator().manual_seed(0)
    for w in (enc.conv_out.weight, qc.weight, pq.weight, dec.conv_in.weight):  # break the zero/zero saddles
        w.add_(noise * torch.randn(w.shape, generator=g))
    z = F.normalize(model.encode_latent(x), dim=1)
    feat = swish(dec.norm_out(dec.trunk(model.post_quant_conv(z))))  # [B, cd, H, W]
    a = torch.cat([feat.permute(0, 2, 3, 1).reshape(-1, cd), torch.ones(feat.numel() // cd, 1)], 1).double()
    y = x.permute(0, 2, 3, 1).reshape(-1, 3).double()
    sol = torch.linalg.lstsq(a, y).solution  # [cd + 1, 3]
    dec.conv_out.weight.zero_()
    dec.conv_out.weight[:, :, 1, 1] = sol[:cd].t().float()
    dec.conv_out.bias.copy_(sol[cd].float())


def code_stats(ids: np.ndarray, k: int) -> dict:
    counts = np.bincount(ids.ravel(), minlength=k).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return {"tokens": int(counts.sum()), "codes_used": int((counts > 0).sum()), "usage": float((counts > 0).mean()),
            "perplexity": float(np.exp(-(p * np.log(p)).sum()))}


def summarise(psnr: np.ndarray, labels, ids: np.ndarray, k: int) -> dict:
    engine = np.array([l.endswith("short256-centre") for l in labels])
    return {"psnr_mean": float(psnr.mean()), "psnr_engine_view": float(psnr[engine].mean()),
            "crops": int(len(psnr)), **code_stats(ids, k)}


@torch.no_grad()
def evaluate_model(model: VQModel, crops_u8: np.ndarray, labels, batch: int = 8) -> dict:
    model.eval()
    psnr, ids = [], []
    for i in range(0, len(crops_u8), batch):
        x = D.to_tensor(crops_u8[i:i + batch])
        rec, _, idx = model(x)
        psnr.append(D.psnr_u8(D.to_u8(rec), crops_u8[i:i + batch]))
        ids.append(idx.numpy().ravel())
    model.train()
    return summarise(np.concatenate(psnr), labels, np.concatenate(ids), model.config.codebook_size)


def evaluate_baseline(bl: PatchPCAKMeans, crops_u8: np.ndarray, labels, k: int) -> dict:
    rec, ids = bl.reconstruct(crops_u8)
    out = summarise(D.psnr_u8(rec, crops_u8), labels, ids, k)
    rec_pca, _ = bl.reconstruct(crops_u8, quantise=False)
    out["psnr_pca_unquantised"] = float(D.psnr_u8(rec_pca, crops_u8).mean())
    out["pca_explained_variance"] = getattr(bl, "explained", float("nan"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="patchlens-vq16", help="folder under .cache/tokenizer/")
    ap.add_argument("--minutes", type=float, default=90.0, help="wall-clock training budget")
    ap.add_argument("--codebook-size", type=int, default=4096)
    ap.add_argument("--embed-dim", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--early-crop", type=int, default=64)
    ap.add_argument("--early-batch", type=int, default=16)
    ap.add_argument("--early-frac", type=float, default=0.4, help="first fraction of the budget at --early-crop")
    ap.add_argument("--final-crop", type=int, default=256)
    ap.add_argument("--final-batch", type=int, default=2)
    ap.add_argument("--final-frac", type=float, default=0.15, help="last fraction of the budget at --final-crop")
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--init", choices=("blockmean", "identity"), default="blockmean",
                    help="initial values: a block-mean autoencoder, or only the identity skip path")
    ap.add_argument("--l1", type=float, default=0.25, help="weight of the L1 term next to MSE")
    ap.add_argument("--ae-steps", type=int, default=300, help="warm-up steps without quantisation")
    ap.add_argument("--kmeans-batches", type=int, default=100)
    ap.add_argument("--restart-every", type=int, default=100, help="steps per dead-code window")
    ap.add_argument("--baseline-patches", type=int, default=200000)
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes (gloo all-reduce); batch sizes are per process")
    ap.add_argument("--port", type=int, default=29533)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    args = ap.parse_args(argv)
    os.makedirs(os.path.join(D.CACHE, args.run), exist_ok=True)
    D.train_pyramid()  # build the caches once, before any worker starts
    D.heldout_eval(256)
    if args.procs > 1:
        import torch.multiprocessing as mp
        mp.spawn(train, args=(args,), nprocs=args.procs, join=True)
    else:
        train(0, args)


def train(rank: int, args) -> None:
    import torch.distributed as dist
    world = args.procs
    torch.set_num_threads(args.threads)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=world)
    out = os.path.join(D.CACHE, args.run)
    logf = open(os.path.join(out, "train.log"), "a") if rank == 0 else None

    def log(msg: str):
        if rank:
            return
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    def all_sum(t: torch.Tensor) -> torch.Tensor:
        if world > 1:
            dist.all_reduce(t)
        return t

    def from_rank0(t: torch.Tensor) -> torch.Tensor:
        if world > 1:
            dist.broadcast(t, 0)
        return t

    log(f"args: {json.dumps(vars(args))}")
    t0 = time.time()
    pyramid = D.train_pyramid()
    log(f"training photos: {len(pyramid)} ({sum(len(l) for l in pyramid)} scales) in {time.time() - t0:.0f}s")
    eval_u8, labels = D.heldout_eval(256)
    log(f"held-out: {len(P.by_split('heldout'))} photos, {len(eval_u8)} crops of 256px")
    k, d = args.codebook_size, args.embed_dim

    # ---- baseline: patch PCA + k-means on the same training distribution
    bl_path = os.path.join(out, f"baseline-K{k}-d{d}.npz")
    if os.path.exists(bl_path) or rank:
        if world > 1:
            dist.barrier()
        bl = PatchPCAKMeans.load(bl_path)
    else:
        t0 = time.time()
        bl = PatchPCAKMeans.fit(D.CropSampler(pyramid, args.seed + 1), k, d, args.baseline_patches, args.seed, log=log)
        bl.save(bl_path)
        log(f"baseline fitted in {time.time() - t0:.0f}s")
        if world > 1:
            dist.barrier()
    bl_metrics = evaluate_baseline(bl, eval_u8, labels, k) if rank == 0 else {}
    log(f"baseline held-out: {json.dumps(bl_metrics)}")

    # ---- model
    torch.manual_seed(args.seed)
    cfg = small_config(k, d)
    model = VQModel(cfg)
    if args.init == "blockmean":
        blockmean_init(model, D.to_tensor(D.CropSampler(pyramid, args.seed + 7).sample(32, 128)))
    else:
        zero_init_residuals(model)
        identity_path_init(model)
    emb = model.quantize.embedding.weight
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.95))
    sampler = D.CropSampler(pyramid, args.seed + 1000 * rank)
    st = {"step": 0, "elapsed": 0.0, "phase": "ae", "restarts": 0, "last_eval": 0.0, "last_ckpt": 0.0}
    counts = torch.zeros(k)
    ckpt_path = os.path.join(out, "ckpt.pt")
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        st.update(ck["state"])
        counts = ck["counts"]
        if rank == 0 and ck["args"].get("procs", 1) == world:
            sampler.set_state(ck["sampler"])
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed at step {st['step']}, {st['elapsed'] / 60:.1f} min")
    log(f"model: {count_params(model) / 1e6:.2f} M params (encoder {count_params(model.encoder) / 1e6:.2f} M, "
        f"decoder {count_params(model.decoder) / 1e6:.2f} M), config {json.dumps(cfg.to_json())}")

    def save_ckpt(path):
        if rank:
            return
        tmp = path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": dict(st), "counts": counts,
                    "sampler": sampler.state(), "torch_rng": torch.get_rng_state(), "config": cfg.to_json(),
                    "args": vars(args)}, tmp)
        os.replace(tmp, path)

    @torch.no_grad()
    def kmeans_init():
        t = time.time()
        model.eval()
        zs = []
        for _ in range(args.kmeans_batches):
            z = model.encode_latent(D.to_tensor(sampler.sample(args.batch, args.crop)))
            zs.append(F.normalize(z.permute(0, 2, 3, 1).reshape(-1, d), dim=1))
        model.train()
        z = torch.cat(zs)
        if rank == 0:
            emb.data.copy_(kmeans(z, k, 20, args.seed, spherical=True))
        from_rank0(emb.data)
        opt.state.pop(emb, None)
        log(f"codebook initialised by spherical k-means on {len(z)} latents in {time.time() - t:.0f}s")

    budget = args.minutes * 60.0
    t_start = time.time() - st["elapsed"]
    win = {"loss": 0.0, "mse": 0.0, "n": 0, "t": time.time()}
    while True:
        st["elapsed"] = float(from_rank0(torch.tensor([time.time() - t_start], dtype=torch.float64)))
        progress = st["elapsed"] / budget
        if progress >= 1.0:
            break
        final = progress >= 1.0 - args.final_frac
        early = progress < args.early_frac
        size, batch = ((args.final_crop, args.final_batch) if final else
                       (args.early_crop, args.early_batch) if early else (args.crop, args.batch))
        warm = min(1.0, (st["step"] + 1) / 50)
        lr = args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr

        x = D.to_tensor(sampler.sample(batch, size))
        if st["phase"] == "ae":
            z = F.normalize(model.encode_latent(x), dim=1)
            rec = model.decode(z)
            extra = 0.0
        else:
            rec, losses, idx = model(x)
            extra = losses["vq"] + losses["commit"] + losses.get("entropy", 0.0)
            counts += torch.bincount(idx.ravel(), minlength=k).float()
        mse = F.mse_loss(rec, x)
        loss = mse + args.l1 * (rec - x).abs().mean() + extra
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:  # average gradients over the processes (one flat all-reduce)
            params = list(model.parameters())
            flat = torch.cat([(q.grad if q.grad is not None else torch.zeros_like(q)).reshape(-1) for q in params])
            all_sum(flat).div_(world)
            i = 0
            for q in params:
                n = q.numel()
                q.grad = flat[i:i + n].view_as(q).clone()
                i += n
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        st["step"] += 1
        win["loss"] += float(loss)
        win["mse"] += float(mse)
        win["n"] += 1

        if st["phase"] == "ae" and st["step"] >= args.ae_steps:
            kmeans_init()
            st["phase"] = "vq"
            counts.zero_()
        elif st["phase"] == "vq" and st["step"] % args.restart_every == 0:
            all_sum(counts)
            dead = (counts == 0).nonzero().ravel()
            if len(dead):
                with torch.no_grad():
                    z = model.encode_latent(D.to_tensor(sampler.sample(args.batch, args.crop)))
                    src = F.normalize(z.permute(0, 2, 3, 1).reshape(-1, d), dim=1)
                    pick = src[torch.randint(0, len(src), (len(dead),))]
                    emb.data[dead] = F.normalize(pick + 0.01 * torch.randn_like(pick), dim=1)
                    from_rank0(emb.data)
                    s = opt.state.get(emb)
                    if s:
                        s["exp_avg"][dead] = 0
                        s["exp_avg_sq"][dead] = 0
                st["restarts"] += len(dead)
            log(f"step {st['step']}: window usage {(counts > 0).float().mean():.3f}, restarted {len(dead)} dead codes "
                f"(total {st['restarts']})")
            counts.zero_()

        if st["step"] % 20 == 0:
            dt = (time.time() - win["t"]) / win["n"]
            log(f"step {st['step']} [{st['phase']}{f' {size}px'}] {st['elapsed'] / 60:.1f}/{args.minutes:.0f} min "
                f"loss {win['loss'] / win['n']:.4f} mse {win['mse'] / win['n']:.4f} "
                f"(~{10 * math.log10(4 / max(win['mse'] / win['n'], 1e-9)):.2f} dB) lr {lr:.2e} {dt:.2f} s/step")
            win = {"loss": 0.0, "mse": 0.0, "n": 0, "t": time.time()}
        if rank == 0 and st["phase"] == "vq" and st["elapsed"] - st["last_eval"] > 600:
            st["last_eval"] = st["elapsed"]
            sub = [i for i, l in enumerate(labels) if l.endswith("short256-centre")]
            m = evaluate_model(model, eval_u8[sub], [labels[i] for i in sub])
            log(f"eval (held-out engine views): PSNR {m['psnr_mean']:.2f} dB vs baseline "
                f"{bl_metrics['psnr_engine_view']:.2f} dB, usage {m['usage']:.3f}")
        if st["elapsed"] - st["last_ckpt"] > args.ckpt_minutes * 60:
            st["last_ckpt"] = st["elapsed"]
            save_ckpt(ckpt_path)

    save_ckpt(ckpt_path)
    if rank:
        return
    torch.save({"model": model.state_dict(), "config": cfg.to_json()}, os.path.join(out, "final.pt"))
    metrics = {
        "model": evaluate_model(model, eval_u8, labels),
        "baseline": bl_metrics,
        "training": {"steps": st["step"], "minutes": st["elapsed"] / 60, "restarted_codes": st["restarts"],
                     "threads": args.threads, "procs": world, "params": count_params(model), "args": vars(args),
                     "train_photos": [p.name for p in P.by_split("train")],
                     "heldout_photos": [p.name for p in P.by_split("heldout")]},
        "config": cfg.to_json(),
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    log(f"done: {st['step']} steps in {st['elapsed'] / 60:.1f} min")
    log(f"model held-out: {json.dumps(metrics['model'])}")
    log(f"baseline held-out: {json.dumps(bl_metrics)}")


if __name__ == "__main__":
    main()
