"""Writes decode.pt: one greedy decoding step of the inference benchmark's model as a TorchScript module.

What a compiled decoding graph would gain over running the step op by op through DJL: the engine runs
the whole step (embedding, 8 layers with an in-place KV cache, final norm, LM head, argmax) as one
call. TorchScriptDecode.java loads the file through DJL and times it next to our own decoding step on
a model of the same shape. Random weights: only the time is compared.

Run: /tmp/torchenv/bin/python tools/pytorch-reference/torchscript_decode.py [--out DIR]
"""

import argparse
import math
import os
from typing import Final

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, MLP = 8192, 384, 8, 6, 2, 64, 1152
CAPACITY = 1024


class Decode(nn.Module):
    kv_heads: Final[int]
    group: Final[int]
    head_dim: Final[int]
    half: Final[int]
    width: Final[int]

    def __init__(self):
        super().__init__()
        self.kv_heads, self.group, self.head_dim = KV_HEADS, HEADS // KV_HEADS, HEAD_DIM
        self.half, self.width = HEAD_DIM // 2, HEADS * HEAD_DIM
        generator = torch.Generator().manual_seed(1)

        def weight(*shape):
            return nn.Parameter(torch.randn(*shape, generator=generator) * 0.02, requires_grad=False)

        def per_layer(*shape):
            return nn.ParameterList([weight(*shape) for _ in range(LAYERS)])

        self.embed, self.head = weight(VOCAB, HIDDEN), weight(VOCAB, HIDDEN)
        self.norm = nn.Parameter(torch.ones(HIDDEN), requires_grad=False)
        self.wq, self.wk = per_layer(HEADS * HEAD_DIM, HIDDEN), per_layer(KV_HEADS * HEAD_DIM, HIDDEN)
        self.wv, self.wo = per_layer(KV_HEADS * HEAD_DIM, HIDDEN), per_layer(HIDDEN, HEADS * HEAD_DIM)
        self.wg, self.wu, self.wd = per_layer(MLP, HIDDEN), per_layer(MLP, HIDDEN), per_layer(HIDDEN, MLP)
        self.register_buffer("keys", torch.zeros(LAYERS, 1, KV_HEADS, CAPACITY, HEAD_DIM))
        self.register_buffer("values", torch.zeros(LAYERS, 1, KV_HEADS, CAPACITY, HEAD_DIM))
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2).float() / HEAD_DIM)))
        self.scale = 1.0 / math.sqrt(HEAD_DIM)

    def rms(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    def rotate(self, x, cos, sin):
        return x * cos + torch.cat((-x[..., self.half:], x[..., :self.half]), -1) * sin

    def forward(self, ids: torch.Tensor, position_tensor: torch.Tensor) -> torch.Tensor:
        """ids [1, 1], position a 0-d tensor; returns the greedy next token [1, 1]."""
        position = int(position_tensor.item())
        freqs = float(position) * self.inv_freq
        angles = torch.cat((freqs, freqs))
        cos, sin = angles.cos(), angles.sin()
        x = F.embedding(ids, self.embed)  # [1, 1, C]
        layer = 0
        for wq, wk, wv, wo, wg, wu, wd in zip(self.wq, self.wk, self.wv, self.wo, self.wg, self.wu, self.wd):
            h = self.rms(x, self.norm)
            q = self.rotate(F.linear(h, wq).view(1, self.kv_heads, self.group, self.head_dim), cos, sin)
            k = self.rotate(F.linear(h, wk).view(1, self.kv_heads, 1, self.head_dim), cos, sin)
            self.keys[layer, :, :, position:position + 1] = k
            self.values[layer, :, :, position:position + 1] = F.linear(h, wv).view(1, self.kv_heads, 1, self.head_dim)
            scores = q @ self.keys[layer, :, :, :position + 1].transpose(2, 3) * self.scale
            out = torch.softmax(scores, dim=-1) @ self.values[layer, :, :, :position + 1]
            x = x + F.linear(out.reshape(1, 1, self.width), wo)
            h = self.rms(x, self.norm)
            x = x + F.linear(F.silu(F.linear(h, wg)) * F.linear(h, wu), wd)
            layer += 1
        return F.linear(self.rms(x, self.norm), self.head).argmax(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/torchscript-decode")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.jit.script(Decode().eval()).save(os.path.join(args.out, "decode.pt"))
    print("wrote", os.path.join(args.out, "decode.pt"), "with torch", torch.__version__)


if __name__ == "__main__":
    main()
