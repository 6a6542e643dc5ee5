"""Training crops and the fixed held-out evaluation crops, both from photos.py.

Training: every training photo is kept in memory at several scales (shorter side
256 ... 1024 px, never upscaled past the original), and each step draws random
square crops from a random photo and scale, with horizontal flips. The 256 scale is
what the engine sees (shorter side resized to the model input, centre crop).

Evaluation (held-out photos, never trained on): 8 crops of 256x256 per photo:
the engine view (shorter side 256, centre crop), centre crops at shorter side 384,
512 and 768, and the four corner crops at shorter side 512.
"""
from __future__ import annotations

import os
import pickle
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image

import photos as P

SCALES = (256, 384, 512, 768, 1024)
SCALE_WEIGHTS = (0.3, 0.2, 0.2, 0.15, 0.15)
CACHE = os.path.join(P.ROOT, ".cache", "tokenizer")


def resize_short(im: Image.Image, short: int) -> Image.Image:
    s = short / min(im.size)
    return im.resize((max(short, round(im.width * s)), max(short, round(im.height * s))), Image.LANCZOS)


def centre_crop(im: Image.Image, size: int) -> Image.Image:
    l, t = (im.width - size) // 2, (im.height - size) // 2
    return im.crop((l, t, l + size, t + size))


def engine_view(im: Image.Image, size: int) -> Image.Image:
    """What the engine feeds the model for resize "crop": shorter side to `size`, centre crop."""
    return centre_crop(resize_short(im, size), size)


def build_pyramid(photos: Sequence[P.Photo], scales=SCALES) -> List[List[np.ndarray]]:
    out = []
    for p in photos:
        im = P.load_rgb(p, max_side=4 * max(scales))
        levels = []
        for s in scales:
            if s > min(im.size) and levels:
                break
            levels.append(np.asarray(resize_short(im, s), dtype=np.uint8))
        out.append(levels)
    return out


def train_pyramid() -> List[List[np.ndarray]]:
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, "pyramid-train.pkl")
    names = [p.name for p in P.by_split("train")]
    if os.path.exists(path):
        with open(path, "rb") as f:
            d = pickle.load(f)
        if d["names"] == names and tuple(d["scales"]) == SCALES:
            return d["levels"]
    levels = build_pyramid(P.by_split("train"))
    with open(path, "wb") as f:
        pickle.dump({"names": names, "scales": SCALES, "levels": levels}, f, protocol=4)
    return levels


class CropSampler:
    def __init__(self, pyramid: List[List[np.ndarray]], seed: int):
        self.pyr = pyramid
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int, size: int) -> np.ndarray:
        """uint8 [B, size, size, 3]."""
        out = np.empty((batch, size, size, 3), np.uint8)
        for b in range(batch):
            levels = self.pyr[self.rng.integers(len(self.pyr))]
            w = np.asarray(SCALE_WEIGHTS[: len(levels)], np.float64)
            img = levels[self.rng.choice(len(levels), p=w / w.sum())]
            h, wd = img.shape[:2]
            y = self.rng.integers(0, h - size + 1)
            x = self.rng.integers(0, wd - size + 1)
            c = img[y:y + size, x:x + size]
            out[b] = c[:, ::-1] if self.rng.random() < 0.5 else c
        return out

    def state(self):
        return self.rng.bit_generator.state

    def set_state(self, s):
        self.rng.bit_generator.state = s


def eval_crops(photos: Sequence[P.Photo], size: int = 256) -> Tuple[np.ndarray, List[str]]:
    """uint8 [N, size, size, 3] and a label per crop ("<photo>/<view>")."""
    crops, labels = [], []
    for p in photos:
        im = P.load_rgb(p, max_side=4096)
        for s in (256, 384, 512, 768):
            r = resize_short(im, s * size // 256)
            crops.append(np.asarray(centre_crop(r, size)))
            labels.append(f"{p.name}/short{s}-centre")
            if s == 512:
                for name, (x, y) in {"tl": (0, 0), "tr": (r.width - size, 0), "bl": (0, r.height - size),
                                     "br": (r.width - size, r.height - size)}.items():
                    crops.append(np.asarray(r.crop((x, y, x + size, y + size))))
                    labels.append(f"{p.name}/short512-{name}")
    return np.stack(crops), labels


def heldout_eval(size: int = 256):
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f"eval-heldout-{size}.npz")
    if os.path.exists(path):
        d = np.load(path)
        return d["crops"], list(d["labels"])
    crops, labels = eval_crops(P.by_split("heldout"), size)
    np.savez(path, crops=crops, labels=np.array(labels))
    return crops, labels


def to_tensor(u8: np.ndarray):
    """uint8 [B,H,W,3] -> float32 torch [B,3,H,W] in [-1, 1] (mean 0.5, std 0.5)."""
    import torch
    return torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def to_u8(t) -> np.ndarray:
    """[-1,1] torch [B,3,H,W] -> uint8 [B,H,W,3] (clamped, rounded)."""
    return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def psnr_u8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) between uint8 batches [B,H,W,3]."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(1)
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))
