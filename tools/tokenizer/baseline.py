"""The non-learned baseline: patch PCA + k-means, at the same rate as the VQ model.

Each 16x16 RGB patch (the model's token footprint) is projected onto the top-d
principal components of training patches, the d-vector is replaced by the nearest
of K k-means centroids, and the patch is reconstructed by the PCA inverse of that
centroid. Same grid, same K, same d: one token per 16x16 patch.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def kmeans(x: torch.Tensor, k: int, iters: int, seed: int, spherical: bool = False, log=None) -> torch.Tensor:
    """Lloyd's k-means on x [N, d] (float32); spherical: unit vectors, cosine assignment."""
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    if spherical:
        x = F.normalize(x, dim=1)
    first = torch.randperm(n, generator=g)[:k] if n >= k else torch.randint(0, n, (k,), generator=g)
    c = x[first].clone()
    for it in range(iters):
        assign = assign_nearest(x, c)
        counts = torch.bincount(assign, minlength=k)
        sums = torch.zeros_like(c).index_add_(0, assign, x)
        empty = counts == 0
        c = torch.where(empty[:, None], c, sums / counts.clamp(min=1)[:, None].float())
        if empty.any():  # re-seed empty clusters with random points
            c[empty] = x[torch.randint(0, n, (int(empty.sum()),), generator=g)]
        if spherical:
            c = F.normalize(c, dim=1)
        if log and (it % 5 == 0 or it == iters - 1):
            log(f"  kmeans iter {it}: empty {int(empty.sum())}")
    return c


def assign_nearest(x: torch.Tensor, c: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    cn = c.pow(2).sum(1)
    out = torch.empty(x.shape[0], dtype=torch.long)
    for i in range(0, x.shape[0], chunk):
        xb = x[i:i + chunk]
        out[i:i + chunk] = (cn[None, :] - 2 * xb @ c.t()).argmin(1)
    return out


def patches_of(u8: np.ndarray, p: int = 16) -> np.ndarray:
    """uint8 [B,H,W,3] -> float32 [B*(H/p)*(W/p), p*p*3] in [-1,1], raster order per image."""
    b, h, w, _ = u8.shape
    x = u8.reshape(b, h // p, p, w // p, p, 3).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, p * p * 3).astype(np.float32) / 127.5 - 1.0


def unpatch(x: np.ndarray, b: int, h: int, w: int, p: int = 16) -> np.ndarray:
    x = x.reshape(b, h // p, w // p, p, p, 3).transpose(0, 1, 3, 2, 4, 5).reshape(b, h, w, 3)
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


class PatchPCAKMeans:
    def __init__(self, mean: np.ndarray, components: np.ndarray, centroids: np.ndarray, patch: int = 16):
        self.mean, self.components, self.centroids, self.patch = mean, components, centroids, patch

    @staticmethod
    def fit(sampler, k: int, d: int, n_patches: int, seed: int, patch: int = 16, iters: int = 30, log=print):
        crops_per_batch = 64
        chunks, n = [], 0
        while n < n_patches:  # random crops from the training pyramid, cut into aligned patches
            x = patches_of(sampler.sample(crops_per_batch, 128), patch)
            chunks.append(x)
            n += len(x)
        x = np.concatenate(chunks)[:n_patches]
        mean = x.mean(0)
        xc = torch.from_numpy(x - mean)
        cov = (xc.t() @ xc).double() / len(xc)
        evals, evecs = torch.linalg.eigh(cov)
        comps = evecs[:, -d:].flip(1).t().float().contiguous()  # [d, D], largest first
        explained = float(evals[-d:].sum() / evals.sum())
        coeffs = xc @ comps.t()
        log(f"baseline: {len(x)} patches, PCA-{d} keeps {explained:.1%} of variance; k-means K={k}")
        cents = kmeans(coeffs, k, iters, seed, log=log)
        m = PatchPCAKMeans(mean, comps.numpy(), cents.numpy(), patch)
        m.explained = explained
        return m

    def encode(self, u8: np.ndarray) -> np.ndarray:
        x = patches_of(u8, self.patch) - self.mean
        coeffs = torch.from_numpy(x) @ torch.from_numpy(self.components).t()
        return assign_nearest(coeffs, torch.from_numpy(self.centroids)).numpy()

    def reconstruct(self, u8: np.ndarray, quantise: bool = True):
        """-> (reconstruction uint8 like u8, token ids [B*G*G] or None)."""
        b, h, w, _ = u8.shape
        x = patches_of(u8, self.patch) - self.mean
        coeffs = x @ self.components.T
        ids = None
        if quantise:
            ids = assign_nearest(torch.from_numpy(coeffs), torch.from_numpy(self.centroids)).numpy()
            coeffs = self.centroids[ids]
        rec = coeffs @ self.components + self.mean
        return unpatch(rec, b, h, w, self.patch), ids

    def save(self, path: str):
        np.savez(path, mean=self.mean, components=self.components, centroids=self.centroids,
                 patch=self.patch, explained=getattr(self, "explained", float("nan")))

    @staticmethod
    def load(path: str):
        d = np.load(path)
        m = PatchPCAKMeans(d["mean"], d["components"], d["centroids"], int(d["patch"]))
        m.explained = float(d["explained"])
        return m
