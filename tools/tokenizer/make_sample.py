"""Build media/sample/: every photo of photos.py, downscaled, with attribution and licences.

    /usr/bin/python3 tools/tokenizer/photos.py fetch
    /usr/bin/python3 tools/tokenizer/make_sample.py

Each photo is converted to RGB, downscaled to at most 512 px on its long side
(Lanczos) and saved as JPEG quality 88. media/sample/ATTRIBUTION.md lists every file
with its source package, original file, author, licence and whether the bundled
tokenizer trained on it; media/sample/licenses/ holds the packages' copyright files
(plus the Plasma wallpapers' metadata.json and the GPL-2 / LGPL-3 texts they cite).
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photos as P  # noqa: E402

OUT = os.path.join(P.ROOT, "media", "sample")


def package_version(pkg: str) -> str:
    debs = sorted(glob.glob(os.path.join(P.CACHE, "debs", f"{pkg}_*.deb")))
    if not debs:
        return "?"
    return os.path.basename(debs[-1]).split("_")[1].replace("%3a", ":")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--max-side", type=int, default=512)
    ap.add_argument("--quality", type=int, default=88)
    args = ap.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    lic = os.path.join(args.out, "licenses")
    if os.path.isdir(lic):
        shutil.rmtree(lic)
    os.makedirs(lic)
    for old in glob.glob(os.path.join(args.out, "*.jpg")):
        os.remove(old)

    rows, total = [], 0
    for p in P.PHOTOS:
        im = P.load_rgb(p, max_side=args.max_side)
        dest = os.path.join(args.out, p.name + ".jpg")
        im.save(dest, "JPEG", quality=args.quality, optimize=True)
        total += os.path.getsize(dest)
        rows.append((p, im.size))
        print(f"{p.name}.jpg {im.size[0]}x{im.size[1]} {os.path.getsize(dest) // 1024} KiB")

    for pkg in P.PACKAGES:
        shutil.copy(P.copyright_file(pkg), os.path.join(lic, f"{pkg}.copyright"))
    plasma_dirs = sorted({p.file.split("/")[0] for p in P.PHOTOS if p.package == P.PLASMA})
    for d in plasma_dirs:
        src = os.path.join(P.CACHE, P.PLASMA, P.PACKAGES[P.PLASMA], d, "metadata.json")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(lic, f"plasma-workspace-wallpapers.{d}.metadata.json"))
    for name in ("GPL-2", "LGPL-3"):
        shutil.copy(f"/usr/share/common-licenses/{name}", os.path.join(lic, name))

    n_train = sum(p.split == "train" for p in P.PHOTOS)
    lines = [
        "# Sample dataset: attribution and licences",
        "",
        f"{len(P.PHOTOS)} photographs from Debian 12 packages, each downscaled to at most {args.max_side} px on its long",
        f"side and re-encoded as JPEG (quality {args.quality}) by `tools/tokenizer/make_sample.py`. Every file keeps",
        "the licence of its original; the packages' copyright files are in [licenses/](licenses/)",
        "(with the Plasma wallpapers' `metadata.json` files, which name each author and licence, and the",
        "GPL-2 and LGPL-3 texts that those files refer to). Modifications: scaling and JPEG re-encoding only.",
        "",
        f"**Overlap with the bundled tokenizer's training data:** the {n_train} photos marked `train` are the",
        "photos whose random crops trained `media/models/patchlens-vq16` (at higher resolution); the",
        f"{len(P.PHOTOS) - n_train} marked `held-out` were never seen in training and are the model card's evaluation set.",
        "",
        "| File | Package (version) | Original file | Author | Licence | Tokenizer split |",
        "|---|---|---|---|---|---|",
    ]
    for p, (w, h) in rows:
        orig = os.path.join(P.PACKAGES[p.package], p.file)
        lines.append(f"| `{p.name}.jpg` ({w}x{h}) | {p.package} ({package_version(p.package)}) | `/{orig}` | "
                     f"{p.author} | {p.licence} | {'held-out' if p.split == 'heldout' else 'train'} |")
    lines += [
        "",
        "Notes on sources:",
        "",
        "- **lomiri-wallpapers-16.04 / -20.04**: per-file copyright and licence in "
        "`licenses/lomiri-wallpapers-16.04.copyright` and `licenses/lomiri-wallpapers-20.04.copyright`.",
        "- **mate-backgrounds**: per-file copyright in `licenses/mate-backgrounds.copyright` (GPL-2+).",
        "- **plasma-workspace-wallpapers**: the Debian copyright file gives GPL-2+ for the package (KDE Visual Design",
        "  Group); each wallpaper's `metadata.json` names its photographer and gives LGPLv3.",
        "- **python3-skimage** (scikit-image sample data; package licence BSD-3-Clause): the per-image notes come from",
        "  the docstrings in `skimage/data/_fetchers.py`: astronaut and Hubble Deep Field (NASA) and rocket (SpaceX)",
        "  public domain; camera, chelsea, coffee (CC0 by their photographers), brick and gravel (CC0Textures), grass",
        "  (CC0), retina (CC0, Wikimedia Commons); coins (Brooklyn Museum) and immunohistochemistry (CMMI):",
        "  \"no known copyright restrictions\".",
        "",
        f"Total size of the images: {total / 1e6:.1f} MB.",
        "",
    ]
    with open(os.path.join(args.out, "ATTRIBUTION.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"{len(rows)} images, {total / 1e6:.2f} MB -> {args.out}")


if __name__ == "__main__":
    main()
