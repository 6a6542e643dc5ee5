"""A VQ autoencoder with the module layout and parameter names of LlamaGen's VQModel.

Written for Patch Lens from the published architecture (LlamaGen,
"Autoregressive Model Beats Diffusion", tokenizer/tokenizer_image/vq_model.py),
so that a LlamaGen or Janus-Pro state dict loads into `VQModel(VQConfig.llamagen_vq16())`
with strict=True, while the same code builds the small bundled tokenizer.

Layout (names as in the state dict):
  encoder.conv_in
  encoder.conv_blocks[i].res[j]       ResnetBlock (norm1, conv1, norm2, conv2, nin_shortcut)
  encoder.conv_blocks[i].attn[j]      AttnBlock (norm, q, k, v, proj_out), last level only
  encoder.conv_blocks[i].downsample   pad (0,1,0,1) + 3x3 stride-2 conv, all levels but the last
  encoder.mid[0..2]                   ResnetBlock, AttnBlock, ResnetBlock
  encoder.norm_out, encoder.conv_out  GroupNorm + swish + 3x3 conv to z_channels
  quant_conv                          1x1 conv z_channels -> d
  quantize.embedding                  nn.Embedding(K, d), rows L2-normalised when l2_norm
  quantize.codebook_used              usage buffer (65536) when show_usage, as in LlamaGen
  post_quant_conv                     1x1 conv d -> z_channels
  decoder.conv_in, decoder.mid[0..2]
  decoder.conv_blocks[i].res[j] / .attn[j] / .upsample   (lowest resolution first)
  decoder.norm_out, decoder.conv_out
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VQConfig:
    ch: int = 128
    encoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2, 2, 4])
    decoder_ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2, 2, 4])
    num_res_blocks: int = 2
    z_channels: int = 256
    codebook_size: int = 16384
    codebook_embed_dim: int = 8
    codebook_l2_norm: bool = True
    codebook_show_usage: bool = True
    commit_loss_beta: float = 0.25
    entropy_loss_ratio: float = 0.0
    dropout_p: float = 0.0
    # GroupNorm groups; LlamaGen uses 32. Not a parameter, so names and shapes don't depend on it.
    norm_groups: int = 32

    @staticmethod
    def llamagen_vq16() -> "VQConfig":
        """LlamaGen VQ-16 (vq_ds16_c2i.pt / vq_ds16_t2i.pt) and Janus-Pro's gen_vision_model."""
        return VQConfig()

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.encoder_ch_mult) - 1)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(d: dict) -> "VQConfig":
        names = {f.name for f in dataclasses.fields(VQConfig)}
        return VQConfig(**{k: v for k, v in d.items() if k in names})


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    g = min(groups, channels)
    while channels % g:
        g -= 1
    return nn.GroupNorm(num_groups=g, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, dropout: float, groups: int):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.norm1 = group_norm(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = group_norm(out_channels, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        skip = self.nin_shortcut(x) if self.in_channels != self.out_channels else x
        return skip + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions, 1x1 convs for q, k, v and the output."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = group_norm(channels, groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        b, c, hh, ww = x.shape
        q = self.q(h).flatten(2).transpose(1, 2)  # b, n, c
        k = self.k(h).flatten(2)  # b, c, n
        v = self.v(h).flatten(2)  # b, c, n
        attn = torch.softmax(torch.bmm(q, k) * (int(c) ** -0.5), dim=2)  # b, n(query), n(key)
        out = torch.bmm(v, attn.transpose(1, 2))  # b, c, n(query)
        return x + self.proj_out(out.reshape(b, c, hh, ww))


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    def __init__(self, cfg: VQConfig, in_channels: int = 3):
        super().__init__()
        ch, mult, g = cfg.ch, list(cfg.encoder_ch_mult), cfg.norm_groups
        self.num_resolutions = len(mult)
        self.num_res_blocks = cfg.num_res_blocks
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        self.conv_blocks = nn.ModuleList()
        block_in = ch
        for level, m in enumerate(mult):
            block = nn.Module()
            block.res = nn.ModuleList()
            block.attn = nn.ModuleList()
            block_out = ch * m
            for _ in range(cfg.num_res_blocks):
                block.res.append(ResnetBlock(block_in, block_out, cfg.dropout_p, g))
                block_in = block_out
                if level == self.num_resolutions - 1:
                    block.attn.append(AttnBlock(block_in, g))
            if level != self.num_resolutions - 1:
                block.downsample = Downsample(block_in)
            self.conv_blocks.append(block)
        self.mid = nn.ModuleList([
            ResnetBlock(block_in, block_in, cfg.dropout_p, g),
            AttnBlock(block_in, g),
            ResnetBlock(block_in, block_in, cfg.dropout_p, g),
        ])
        self.norm_out = group_norm(block_in, g)
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 3, 1, 1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before norm_out (train.py's initialisation reads these features)."""
        h = self.conv_in(x)
        for level, block in enumerate(self.conv_blocks):
            for j, res in enumerate(block.res):
                h = res(h)
                if len(block.attn):
                    h = block.attn[j](h)
            if level != self.num_resolutions - 1:
                h = block.downsample(h)
        for layer in self.mid:
            h = layer(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(swish(self.norm_out(self.trunk(x))))


class Decoder(nn.Module):
    def __init__(self, cfg: VQConfig, out_channels: int = 3):
        super().__init__()
        ch, mult, g = cfg.ch, list(cfg.decoder_ch_mult), cfg.norm_groups
        self.num_resolutions = len(mult)
        self.num_res_blocks = cfg.num_res_blocks
        block_in = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, 1, 1)
        self.mid = nn.ModuleList([
            ResnetBlock(block_in, block_in, cfg.dropout_p, g),
            AttnBlock(block_in, g),
            ResnetBlock(block_in, block_in, cfg.dropout_p, g),
        ])
        self.conv_blocks = nn.ModuleList()
        for level in reversed(range(self.num_resolutions)):
            block = nn.Module()
            block.res = nn.ModuleList()
            block.attn = nn.ModuleList()
            block_out = ch * mult[level]
            for _ in range(cfg.num_res_blocks + 1):
                block.res.append(ResnetBlock(block_in, block_out, cfg.dropout_p, g))
                block_in = block_out
                if level == self.num_resolutions - 1:
                    block.attn.append(AttnBlock(block_in, g))
            if level != 0:
                block.upsample = Upsample(block_in)
            self.conv_blocks.append(block)
        self.norm_out = group_norm(block_in, g)
        self.conv_out = nn.Conv2d(block_in, out_channels, 3, 1, 1)

    def trunk(self, z: torch.Tensor) -> torch.Tensor:
        """Everything before norm_out (train.py's initialisation reads these features)."""
        h = self.conv_in(z)
        for layer in self.mid:
            h = layer(h)
        for i, block in enumerate(self.conv_blocks):
            for j, res in enumerate(block.res):
                h = res(h)
                if len(block.attn):
                    h = block.attn[j](h)
            if i != self.num_resolutions - 1:
                h = block.upsample(h)
        return h

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv_out(swish(self.norm_out(self.trunk(z))))


class VectorQuantizer(nn.Module):
    """Nearest-code quantiser. With l2_norm, latents and codes are unit vectors (nearest = highest cosine)."""

    def __init__(self, n_e: int, e_dim: int, beta: float, entropy_loss_ratio: float, l2_norm: bool, show_usage: bool):
        super().__init__()
        self.n_e, self.e_dim = n_e, e_dim
        self.beta = beta
        self.entropy_loss_ratio = entropy_loss_ratio
        self.l2_norm = l2_norm
        self.show_usage = show_usage
        self.embedding = nn.Embedding(n_e, e_dim)
        nn.init.uniform_(self.embedding.weight, -1.0 / n_e, 1.0 / n_e)
        if l2_norm:
            with torch.no_grad():
                self.embedding.weight.copy_(F.normalize(self.embedding.weight, dim=-1))
        if show_usage:
            self.register_buffer("codebook_used", torch.zeros(65536))

    def codebook(self) -> torch.Tensor:
        w = self.embedding.weight
        return F.normalize(w, dim=-1) if self.l2_norm else w

    def nearest(self, z_flat: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """z_flat [N, d] (already normalised if l2_norm) -> (indices [N], squared distances [N, K])."""
        e = self.codebook()
        d = z_flat.pow(2).sum(1, keepdim=True) + e.pow(2).sum(1)[None, :] - 2.0 * z_flat @ e.t()
        return d.argmin(1), d

    def forward(self, z: torch.Tensor):
        """z [B, d, H, W] -> (z_q with straight-through gradient, losses dict, indices [B, H, W])."""
        b, c, h, w = z.shape
        zf = z.permute(0, 2, 3, 1).reshape(-1, c)
        if self.l2_norm:
            zf = F.normalize(zf, dim=-1)
        idx, d = self.nearest(zf)
        e = self.codebook()
        zq = e[idx]
        losses = {}
        if self.training:
            losses["vq"] = (zq - zf.detach()).pow(2).mean()
            losses["commit"] = self.beta * (zq.detach() - zf).pow(2).mean()
            if self.entropy_loss_ratio > 0:
                losses["entropy"] = self.entropy_loss_ratio * entropy_loss(-d)
            if self.show_usage:
                n = min(idx.numel(), self.codebook_used.numel())
                self.codebook_used.copy_(torch.cat([self.codebook_used[n:], idx[-n:].float()]))
        zq = zf + (zq - zf).detach()
        zq = zq.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        return zq, losses, idx.reshape(b, h, w)

    def get_codebook_entry(self, indices: torch.Tensor) -> torch.Tensor:
        """indices [B, H, W] -> codes [B, d, H, W]."""
        return self.codebook()[indices].permute(0, 3, 1, 2).contiguous()


def entropy_loss(affinity: torch.Tensor, temperature: float = 0.01) -> torch.Tensor:
    """Per-sample entropy minus entropy of the mean assignment (as in LlamaGen / MaskGIT)."""
    a = affinity.reshape(-1, affinity.shape[-1]) / temperature
    p = torch.softmax(a, dim=-1)
    logp = torch.log_softmax(a + 1e-5, dim=-1)
    avg = p.mean(0)
    return -(p * logp).sum(-1).mean() + (avg * torch.log(avg + 1e-5)).sum()


class VQModel(nn.Module):
    def __init__(self, cfg: Optional[VQConfig] = None):
        super().__init__()
        cfg = cfg or VQConfig()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantize = VectorQuantizer(cfg.codebook_size, cfg.codebook_embed_dim, cfg.commit_loss_beta,
                                        cfg.entropy_loss_ratio, cfg.codebook_l2_norm, cfg.codebook_show_usage)
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.codebook_embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.codebook_embed_dim, cfg.z_channels, 1)

    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-quantisation latents (quant_conv output, not normalised): what encoder.onnx outputs."""
        return self.quant_conv(self.encoder(x))

    def encode(self, x: torch.Tensor):
        return self.quantize(self.encode_latent(x))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """Codebook vectors [B, d, H, W] -> image in [-1, 1] space: what decoder.onnx computes."""
        return self.decoder(self.post_quant_conv(code))

    def decode_code(self, indices: torch.Tensor) -> torch.Tensor:
        return self.decode(self.quantize.get_codebook_entry(indices))

    def forward(self, x: torch.Tensor):
        zq, losses, idx = self.encode(x)
        return self.decode(zq), losses, idx


class EncoderForExport(nn.Module):
    """image [B,3,H,W] in [-1,1] -> latent [B,d,G,G] (before normalisation and quantisation)."""

    def __init__(self, model: VQModel):
        super().__init__()
        self.encoder, self.quant_conv = model.encoder, model.quant_conv

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.quant_conv(self.encoder(image))


class DecoderForExport(nn.Module):
    """code [B,d,G,G] (codebook vectors) -> image [B,3,H,W] in [-1,1] space."""

    def __init__(self, model: VQModel):
        super().__init__()
        self.post_quant_conv, self.decoder = model.post_quant_conv, model.decoder

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(code))


def tokens_from_latent(latent: torch.Tensor, codebook: torch.Tensor, normalize: bool = True):
    """The engine's rule: L2-normalise the latents (and codes), nearest row by squared L2.

    latent [B,d,H,W], codebook [K,d] -> (tokens [B,H,W] int64, margin [B,H,W]: second-best minus best distance)."""
    b, d, h, w = latent.shape
    z = latent.permute(0, 2, 3, 1).reshape(-1, d).double()
    e = codebook.double()
    if normalize:
        z = F.normalize(z, dim=-1)
        e = F.normalize(e, dim=-1)
    dist = z.pow(2).sum(1, keepdim=True) + e.pow(2).sum(1)[None] - 2 * z @ e.t()
    two = dist.topk(2, dim=1, largest=False).values
    idx = dist.argmin(1)
    return idx.reshape(b, h, w), (two[:, 1] - two[:, 0]).reshape(b, h, w)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


if __name__ == "__main__":
    m = VQModel(VQConfig.llamagen_vq16())
    print(json.dumps({"params": count_params(m), "encoder": count_params(m.encoder), "decoder": count_params(m.decoder)}))
