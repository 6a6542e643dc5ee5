"""The photo catalogue: freely licensed photos shipped in Debian 12 packages.

One list drives everything: training crops (split "train"), the held-out evaluation
(split "heldout": whole photos never seen in training), and the sample dataset
(media/sample/, every photo here, downscaled). Fetch the packages with

    /usr/bin/python3 tools/tokenizer/photos.py fetch     # apt-get download + dpkg -x into .cache/photos/

Authors and licences are from each package's debian/copyright, the Plasma
wallpapers' metadata.json and scikit-image's data docstrings (skimage/data/_fetchers.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, List

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.path.join(ROOT, ".cache", "photos")

PACKAGES: Dict[str, str] = {
    # package -> folder of its images inside the extracted package
    "lomiri-wallpapers-16.04": "usr/share/backgrounds",
    "lomiri-wallpapers-20.04": "usr/share/backgrounds",
    "mate-backgrounds": "usr/share/backgrounds/mate/nature",
    "plasma-workspace-wallpapers": "usr/share/wallpapers",
    "python3-skimage": "usr/lib/python3/dist-packages/skimage/data",
}


@dataclass(frozen=True)
class Photo:
    name: str  # sample file stem: lowercase, dashes
    package: str
    file: str  # relative to PACKAGES[package]
    author: str
    licence: str  # SPDX-style id as given by the source
    split: str  # "train" | "heldout"
    note: str = ""

    @property
    def path(self) -> str:
        return os.path.join(CACHE, self.package, PACKAGES[self.package], self.file)


L16, L20, MATE, PLASMA, SKI = (
    "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "mate-backgrounds",
    "plasma-workspace-wallpapers", "python3-skimage")
PLASMA_LIC = "LGPL-3.0 (metadata.json); package: GPL-2+"
SKI_NOTE = "scikit-image sample data (package licence BSD-3-Clause)"

PHOTOS: List[Photo] = [
    # Lomiri (Ubuntu Touch) wallpapers; licences per file in debian/copyright.
    Photo("bridge", L16, "Bridge_by_Sander_Klootwijk.jpg", "Sander Klootwijk", "CC-BY-SA-4.0", "train"),
    Photo("dragonfly", L16, "Dragonfly_by_Bolly.jpg", '"Bolly"', "CC-BY-SA-4.0", "train"),
    Photo("fig-on-a-plate", L16, "Picture_0B_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0", "train"),
    Photo("paint-brushes", L16, "Picture_1A_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0", "train"),
    Photo("wine-and-drum", L16, "Wine_by_Jakkub_Mede.jpg", "Jakub Mede", "CC-BY-4.0", "train"),
    Photo("aitzgorri", L16, "aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0", "train"),
    Photo("analog-pattern", L16, "analogpattern_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0", "train"),
    Photo("lamps-and-bird", L16, "free_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0", "train"),
    Photo("dogs-at-the-door", L16, "friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0", "heldout"),
    Photo("wall-clock", L16, "greentock_by_Peter_Nerlich.jpg", "Peter Nerlich", "CC-BY-SA-4.0", "train"),
    Photo("forest-stream", L16, "life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0", "train"),
    Photo("picos-de-europa", L16, "picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0", "heldout"),
    Photo("dandelions", L16, "seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt", "CC0-1.0", "train"),
    Photo("mountain-sunset", L16, "sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0", "train"),
    Photo("nuthatch", L20, "Kleiber_by_Lukas_Baubkus.jpg", "Lukas Baubkus", "CC-BY-SA-3.0", "train"),
    # MATE nature backgrounds; debian/copyright.
    Photo("water-drop", MATE, "Aqua.jpg", "Charles Barbin", "GPL-2+", "train"),
    Photo("green-blades", MATE, "Blinds.jpg", "Lennart Poettering, Andrea Cimitan", "GPL-2+", "train"),
    Photo("dune-grass", MATE, "Dune.jpg", "Marco Cogoni, Hylke Bons", "GPL-2+", "train"),
    Photo("orange-flower", MATE, "FreshFlower.jpg", "Jens Ansorg", "GPL-2+", "train"),
    Photo("marigold", MATE, "Garden.jpg", "Charles Barbin", "GPL-2+", "train"),
    Photo("green-meadow", MATE, "GreenMeadow.jpg", "Timothy Schellhase, Lapo Calamandrei", "GPL-2+", "train"),
    Photo("ladybird", MATE, "LadyBird.jpg", "Charles Barbin", "GPL-2+", "heldout"),
    Photo("raindrops", MATE, "RainDrops.jpg", '"blackcombwhistler07"', "GPL-2+", "train"),
    Photo("storm", MATE, "Storm.jpg", "Sergey Nazarov", "GPL-2+", "heldout"),
    Photo("two-wings", MATE, "TwoWings.jpg", "Charles Barbin, Hylke Bons", "GPL-2+", "train"),
    Photo("wood", MATE, "Wood.jpg", "Jean-François Fortin Tam", "GPL-2+", "train"),
    Photo("yellow-flower", MATE, "YellowFlower.jpg", "Charles Barbin", "GPL-2+", "train"),
    # KDE Plasma wallpapers (photographs only); author and licence from each metadata.json.
    Photo("by-the-water", PLASMA, "BytheWater/contents/images/2560x1600.jpg", "Maciej Wiklo", PLASMA_LIC, "train"),
    Photo("cold-ripple", PLASMA, "ColdRipple/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "train"),
    Photo("colorful-cups", PLASMA, "ColorfulCups/contents/images/2560x1600.jpg", "Dmitri Popov", PLASMA_LIC, "heldout"),
    Photo("darkest-hour", PLASMA, "DarkestHour/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "train"),
    Photo("evening-glow", PLASMA, "EveningGlow/contents/images/2560x1600.jpg", "Ian Hex", PLASMA_LIC, "train"),
    Photo("fallen-leaf", PLASMA, "FallenLeaf/contents/images/2560x1600.jpg", "Martin Klapetek", PLASMA_LIC, "train"),
    Photo("grey-pier", PLASMA, "Grey/contents/images/2560x1600.jpg", "Sigi Sagi", PLASMA_LIC, "train"),
    Photo("kite", PLASMA, "Kite/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "train"),
    Photo("one-stands-out", PLASMA, "OneStandsOut/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "train"),
    Photo("forest-path", PLASMA, "Path/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "heldout"),
    Photo("summer-1am", PLASMA, "summer_1am/contents/images/2560x1600.jpg", "Risto Saukonpää", PLASMA_LIC, "train"),
    # scikit-image sample photographs (not the synthetic figures); notes from skimage/data/_fetchers.py.
    Photo("astronaut", SKI, "astronaut.png", "NASA (Eileen Collins)", "public domain", "heldout", SKI_NOTE),
    Photo("brick-wall", SKI, "brick.png", "CC0Textures (Bricks25)", "CC0-1.0", "train", SKI_NOTE),
    Photo("cameraman", SKI, "camera.png", "Lav Varshney", "CC0-1.0", "heldout", SKI_NOTE),
    Photo("chelsea-the-cat", SKI, "chelsea.png", "Stefan van der Walt", "CC0-1.0", "heldout", SKI_NOTE),
    Photo("coffee", SKI, "coffee.png", "Rachel Michetti (courtesy of Pikolo Espresso Bar)", "CC0-1.0", "heldout", SKI_NOTE),
    Photo("greek-coins", SKI, "coins.png", "Brooklyn Museum Collection", "no known copyright restrictions", "train", SKI_NOTE),
    Photo("grass", SKI, "grass.png", '"linolafett" (DeviantArt, Grass-01)', "CC0-1.0", "train", SKI_NOTE),
    Photo("gravel", SKI, "gravel.png", "CC0Textures (Gravel04)", "CC0-1.0", "train", SKI_NOTE),
    Photo("hubble-deep-field", SKI, "hubble_deep_field.jpg", "NASA", "public domain", "train", SKI_NOTE),
    Photo("immunohistochemistry", SKI, "ihc.png", "Center for Microscopy and Molecular Imaging (CMMI)", "no known copyright restrictions", "train", SKI_NOTE),
    Photo("retina", SKI, "retina.jpg", "Mikael Häggström (Wikimedia Commons)", "CC0-1.0", "train", SKI_NOTE),
    Photo("rocket", SKI, "rocket.jpg", "SpaceX", "public domain (CC0-1.0)", "train", SKI_NOTE),
]


def by_split(split: str) -> List[Photo]:
    return [p for p in PHOTOS if p.split == split]


def copyright_file(package: str) -> str:
    return os.path.join(CACHE, package, "usr/share/doc", package, "copyright")


def fetch(packages=None) -> None:
    """apt-get download each package and extract it (dpkg -x) under .cache/photos/<package>/."""
    os.makedirs(CACHE, exist_ok=True)
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    for pkg in packages or PACKAGES:
        dest = os.path.join(CACHE, pkg)
        if os.path.isdir(os.path.join(dest, PACKAGES[pkg])):
            print(f"{pkg}: already extracted")
            continue
        have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not have:
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True)
            have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        subprocess.run(["dpkg", "-x", os.path.join(debs, sorted(have)[-1]), dest], check=True)
        print(f"{pkg}: extracted {sorted(have)[-1]}")
    missing = [p.path for p in PHOTOS if not os.path.isfile(p.path)]
    if missing:
        raise SystemExit("missing after extraction:\n  " + "\n  ".join(missing))
    print(f"{len(PHOTOS)} photos ready under {CACHE}")


def load_rgb(photo: Photo, max_side: int = 0):
    """The photo as a PIL RGB image (grey and RGBA converted), optionally downscaled (long side)."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    im = Image.open(photo.path)
    if max_side:
        im.draft("RGB", (max_side, max_side))  # fast JPEG downscale by powers of two
    im = im.convert("RGB")
    if max_side and max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)
    return im


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "list"
    if cmd == "fetch":
        fetch()
    elif cmd == "list":
        for p in PHOTOS:
            print(f"{p.split:8s} {p.name:24s} {p.package:28s} {p.file}")
        print(f"train {len(by_split('train'))}, heldout {len(by_split('heldout'))}")
    else:
        raise SystemExit("usage: photos.py [fetch|list]")
