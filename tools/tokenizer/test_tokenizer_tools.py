"""Checks for the tokenizer tools (PyTorch only, no ONNX export; a few seconds on CPU).

    /usr/bin/python3 -m unittest tools/tokenizer/test_tokenizer_tools.py -v

- the full-size configuration has LlamaGen VQ-16's 344 state-dict entries and 71.9 M parameters;
- a LlamaGen checkpoint ({"model": state_dict}), a DeepSeek Janus checkpoint (gen_vision_model.*,
  sharded, with an index) and a transformers-layout Janus checkpoint (model.vqmodel.*, safetensors,
  bfloat16) all load with strict=True and give the same weights;
- the engine's quantisation rule agrees with the quantiser's own argmin.
"""
from __future__ import annotations

import json
import os
import re
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_llamagen import build_model, load_tokenizer_state  # noqa: E402
from vq_model import VQConfig, VQModel, count_params, tokens_from_latent  # noqa: E402


def llamagen_to_hf(k: str) -> str:
    """transformers' renaming of Janus' gen_vision_model (convert_janus_weights_to_hf.py), for the test."""
    k = re.sub(r"^encoder\.conv_blocks\.", "encoder.down.", k)
    k = re.sub(r"^decoder\.conv_blocks\.", "decoder.up.", k)
    k = re.sub(r"\.res\.", ".block.", k)
    k = re.sub(r"\.mid\.0\.", ".mid.block_1.", k)
    k = re.sub(r"\.mid\.1\.", ".mid.attn_1.", k)
    k = re.sub(r"\.mid\.2\.", ".mid.block_2.", k)
    return "model.vqmodel." + k


def write_safetensors_bf16(path: str, tensors: dict) -> None:
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        u = t.float().numpy().view(np.uint32)
        raw = (u >> 16).astype(np.uint16).tobytes()  # truncate to bfloat16
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class TokenizerTools(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        torch.manual_seed(3)
        cls.ref = VQModel(VQConfig.llamagen_vq16()).state_dict()

    def test_full_size_matches_llamagen_vq16(self):
        self.assertEqual(len(self.ref), 344)
        self.assertEqual(sum(v.numel() for k, v in self.ref.items() if k != "quantize.codebook_used"), 71_883_403)
        self.assertEqual(tuple(self.ref["quantize.embedding.weight"].shape), (16384, 8))
        self.assertIn("encoder.conv_blocks.0.downsample.conv.weight", self.ref)
        self.assertIn("decoder.conv_blocks.0.attn.2.proj_out.weight", self.ref)
        self.assertNotIn("decoder.conv_blocks.4.upsample.conv.weight", self.ref)

    def assert_same(self, model: VQModel, bf16: bool = False):
        sd = model.state_dict()
        for k, v in self.ref.items():
            if k == "quantize.codebook_used" and k not in sd:
                continue
            want = v.float()
            if bf16:
                want = (want.numpy().view(np.uint32) & 0xFFFF0000).view(np.float32)
                want = torch.from_numpy(want)
            self.assertTrue(torch.equal(sd[k], want), k)

    def test_llamagen_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "vq_ds16_t2i.pt")
            torch.save({"model": self.ref, "steps": 1}, p)
            self.assert_same(build_model(load_tokenizer_state(p, janus=False), seed=0))

    def test_janus_deepseek_sharded(self):
        with tempfile.TemporaryDirectory() as tmp:
            torch.save({"language_model.lm_head.weight": torch.zeros(2, 2)}, os.path.join(tmp, "pytorch_model-00001-of-00002.bin"))
            torch.save({"gen_vision_model." + k: v.half() if v.is_floating_point() else v for k, v in self.ref.items()},
                       os.path.join(tmp, "pytorch_model-00002-of-00002.bin"))
            wm = {"language_model.lm_head.weight": "pytorch_model-00001-of-00002.bin",
                  **{"gen_vision_model." + k: "pytorch_model-00002-of-00002.bin" for k in self.ref}}
            with open(os.path.join(tmp, "pytorch_model.bin.index.json"), "w") as f:
                json.dump({"weight_map": wm}, f)
            model = build_model(load_tokenizer_state(tmp, janus=True), seed=0)
            sd = model.state_dict()
            for k, v in self.ref.items():
                self.assertTrue(torch.equal(sd[k], v.half().float()), k)

    def test_janus_transformers_layout(self):
        with tempfile.TemporaryDirectory() as tmp:
            tensors = {llamagen_to_hf(k): v for k, v in self.ref.items() if k != "quantize.codebook_used"}
            tensors["model.language_model.embed_tokens.weight"] = torch.zeros(4, 2)
            write_safetensors_bf16(os.path.join(tmp, "model.safetensors"), tensors)
            model = build_model(load_tokenizer_state(tmp, janus=True), seed=0)
            self.assertFalse(model.quantize.show_usage)
            self.assert_same(model, bf16=True)

    def test_quantisation_rule(self):
        torch.manual_seed(0)
        q = VQModel(VQConfig(ch=8, encoder_ch_mult=[1, 2], decoder_ch_mult=[1, 2], num_res_blocks=1, z_channels=8,
                             codebook_size=64, codebook_embed_dim=4, norm_groups=4)).quantize.eval()
        z = torch.randn(2, 4, 5, 5)
        _, _, idx = q(z)
        tok, margin = tokens_from_latent(z, q.embedding.weight)
        self.assertTrue(torch.equal(tok, idx))
        self.assertTrue(bool((margin >= 0).all()))


if __name__ == "__main__":
    unittest.main()
