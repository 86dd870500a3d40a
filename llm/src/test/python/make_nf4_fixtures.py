#!/usr/bin/python3
"""Writes the NF4 fixtures of the llm module: weights, their NF4 codes and scales, and the
dequantised weights, computed by an implementation independent of the Java one.

NF4 as in the QLoRA paper (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs"),
with the 16 code values as published (the paper's appendix; bitsandbytes' NF4 table):
  * the weight is flattened and cut into blocks of 64 values (the last block zero-padded);
  * each block is divided by its absolute maximum (absmax) and every value is rounded to the
    nearest of the 16 code values (here: argmin of the distance, the first code on a tie);
  * codes are packed two per byte, the first of a pair in the high nibble (bitsandbytes' layout);
  * dequantisation is code_value * absmax.
Double quantisation of the scales (the paper's section 3, "Double Quantization"): the fp32 absmax
values have their mean subtracted, are cut into blocks of 256, and each block is quantised to
8 bits with its own fp32 absmax. The paper (and bitsandbytes) use an 8-bit float code for this
step; this project uses symmetric linear int8, round(x / absmax * 127), which costs the same
8 bits per scale. Dequantised scale = q * (absmax2 / 127) + mean.

Shares no code with the Java implementation it checks (dev.finetune.llm.quant).

Run from anywhere (Debian's torch: apt-get install python3-torch):
    /usr/bin/python3 llm/src/test/python/make_nf4_fixtures.py
It rewrites llm/src/test/resources/nf4/nf4.safetensors holding, for each weight W:
    W.weight                 F32 [rows, cols]   the weight
    W.codes                  U8  [blocks * 64]  one NF4 code (0..15) per value, padding included
    W.packed                 U8  [blocks * 32]  the codes packed two per byte
    W.absmax                 F32 [blocks]       the block scales
    W.dequantized            F32 [rows, cols]   codes * absmax
    W.dq.scale_codes         I8  [groups * 256] the int8 scales (zero-padded to whole groups)
    W.dq.scale_absmax        F32 [groups]       the absmax of each group of 256 scales
    W.dq.scale_mean          F32 [1]            the mean subtracted from the scales
    W.dq.dequantized         F32 [rows, cols]   codes * dequantised scales
and, in the header metadata, the relative Frobenius error of both dequantised weights.
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "nf4")

NF4 = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=torch.float32)
BLOCK = 64
SCALE_BLOCK = 256


def blocks_of(values, size):
    """values (1-D) zero-padded to whole blocks, as [count, size]."""
    count = -(-values.numel() // size)
    padded = torch.zeros(count * size, dtype=values.dtype)
    padded[:values.numel()] = values
    return padded.view(count, size)


def quantize(weight):
    blocks = blocks_of(weight.reshape(-1), BLOCK)                       # [NB, 64]
    absmax = blocks.abs().amax(dim=1)                                   # [NB]
    divisor = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    normalized = blocks / divisor[:, None]                              # [NB, 64] in [-1, 1]
    codes = (normalized[..., None] - NF4).abs().argmin(dim=-1).reshape(-1)  # nearest code value
    packed = codes[0::2] * 16 + codes[1::2]                             # first of a pair: high nibble
    return codes.to(torch.uint8), packed.to(torch.uint8), absmax


def dequantize(codes, scales, shape):
    values = NF4[codes.long()].view(-1, BLOCK) * scales[:, None]        # [NB, 64]
    return values.reshape(-1)[:math.prod(shape)].reshape(shape)


def double_quantize(absmax):
    mean = absmax.double().mean().float()
    groups = blocks_of(absmax - mean, SCALE_BLOCK)                      # [NG, 256]
    absmax2 = groups.abs().amax(dim=1)                                  # [NG]
    divisor = torch.where(absmax2 > 0, absmax2, torch.ones_like(absmax2))
    q = torch.round(groups / divisor[:, None] * 127).to(torch.int8)     # half to even
    scales = (q.float() * (absmax2 / 127)[:, None]).reshape(-1)[:absmax.numel()] + mean
    return q.reshape(-1), absmax2, mean.reshape(1), scales


def relative_error(weight, approx):
    return ((weight - approx).norm() / weight.norm()).item()


def write_safetensors(path, tensors, metadata):
    dtypes = {torch.float32: "F32", torch.uint8: "U8", torch.int8: "I8"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, tensor in tensors.items():
        data = tensor.contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    generator = torch.Generator().manual_seed(20231122)
    # A Gaussian weight at a typical LLM init scale, with 320 blocks: two groups of scales (256 + 64).
    gaussian = torch.randn(64, 320, generator=generator) * 0.02
    # A weight whose size is no multiple of 64 (a padded last block) with an all-zero block.
    ragged = torch.randn(3, 50, generator=generator)
    ragged.view(-1)[64:128] = 0
    tensors, metadata = {}, {}
    for name, weight in (("gaussian", gaussian), ("ragged", ragged)):
        codes, packed, absmax = quantize(weight)
        dequantized = dequantize(codes, absmax, weight.shape)
        scale_codes, scale_absmax, scale_mean, scales = double_quantize(absmax)
        dq_dequantized = dequantize(codes, scales, weight.shape)
        tensors.update({
            f"{name}.weight": weight, f"{name}.codes": codes, f"{name}.packed": packed,
            f"{name}.absmax": absmax, f"{name}.dequantized": dequantized,
            f"{name}.dq.scale_codes": scale_codes, f"{name}.dq.scale_absmax": scale_absmax,
            f"{name}.dq.scale_mean": scale_mean, f"{name}.dq.dequantized": dq_dequantized})
        metadata[f"{name}.relative_error"] = f"{relative_error(weight, dequantized):.6f}"
        metadata[f"{name}.dq.relative_error"] = f"{relative_error(weight, dq_dequantized):.6f}"
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "nf4.safetensors"), tensors, metadata)
    print(json.dumps(metadata, indent=2))


if __name__ == "__main__":
    main()
