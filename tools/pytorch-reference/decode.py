"""Greedy decoding in plain PyTorch eager: the reference `llm bench` is compared with.

The inference benchmark's model (llama type: hidden 384, 8 layers, 6 query / 2 key-value heads of
dim 64, MLP 1152, vocabulary 8192, untied LM head; random weights, fp32, CPU), written the way
HuggingFace's eager Llama runs it: a KV cache that grows by concatenation, repeat_kv, softmax in
fp32, argmax over the last position's logits, under torch.no_grad() as transformers' generate()
runs. The same workloads as `llm bench`: prompts of 32
random tokens, 64 new greedy tokens, batch 1 and batch 16; each figure is the median of --repeats
calls after --warmup calls, whole calls (prompt processing included) and decoding alone (after the
first token), in tokens/s; and the linear layers' products alone, one row, back to back, to tell
the products' time from everything else in a decoding step.

Needs only torch (the machine's wheel: pip install --no-deps /opt/wheels/torch-*.whl into a venv
made with --system-site-packages). Run: python tools/pytorch-reference/decode.py [--threads 2]
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

VOCAB, HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, MLP = 8192, 384, 8, 6, 2, 64, 1152
EPS, THETA = 1e-5, 10000.0
PROMPT, NEW_TOKENS, BATCH = 32, 64, 16


def weights(generator):
    def normal(*shape):
        return torch.randn(*shape, generator=generator) * 0.02

    layers = []
    for _ in range(LAYERS):
        layers.append({
            "q": normal(HEADS * HEAD_DIM, HIDDEN), "k": normal(KV_HEADS * HEAD_DIM, HIDDEN),
            "v": normal(KV_HEADS * HEAD_DIM, HIDDEN), "o": normal(HIDDEN, HEADS * HEAD_DIM),
            "gate": normal(MLP, HIDDEN), "up": normal(MLP, HIDDEN), "down": normal(HIDDEN, MLP),
            "input_norm": torch.ones(HIDDEN), "post_norm": torch.ones(HIDDEN),
        })
    return {"embed": normal(VOCAB, HIDDEN), "layers": layers, "norm": torch.ones(HIDDEN),
            "head": normal(VOCAB, HIDDEN)}


def rms_norm(x, weight):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + EPS))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Model:
    def __init__(self, w):
        self.w = w
        self.inv_freq = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))

    def forward(self, ids, cache):
        """ids [B, T] after the cache's P positions; returns the last position's logits [B, V]."""
        batch, length = ids.shape
        past = 0 if cache[0] is None else cache[0][0].shape[2]
        positions = torch.arange(past, past + length, dtype=torch.float32)
        freqs = positions[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, D]
        mask = None
        if length > 1:
            mask = torch.full((length, past + length), float("-inf")).triu(past + 1)
        x = F.embedding(ids, self.w["embed"])
        for i, layer in enumerate(self.w["layers"]):
            h = rms_norm(x, layer["input_norm"])
            q = F.linear(h, layer["q"]).view(batch, length, HEADS, HEAD_DIM).transpose(1, 2)
            k = F.linear(h, layer["k"]).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
            v = F.linear(h, layer["v"]).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache[i] is not None:
                k = torch.cat((cache[i][0], k), dim=2)
                v = torch.cat((cache[i][1], v), dim=2)
            cache[i] = (k, v)
            k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
            v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
            scores = q @ k.transpose(2, 3) / math.sqrt(HEAD_DIM)
            if mask is not None:
                scores = scores + mask
            probabilities = F.softmax(scores, dim=-1, dtype=torch.float32)
            out = (probabilities @ v).transpose(1, 2).reshape(batch, length, HEADS * HEAD_DIM)
            x = x + F.linear(out, layer["o"])
            h = rms_norm(x, layer["post_norm"])
            x = x + F.linear(F.silu(F.linear(h, layer["gate"])) * F.linear(h, layer["up"]), layer["down"])
        x = rms_norm(x[:, -1], self.w["norm"])
        return F.linear(x, self.w["head"])

    def generate(self, prompts):
        """Greedy: returns the new tokens [B, NEW_TOKENS] and the time the first one took."""
        start = time.perf_counter()
        cache = [None] * LAYERS
        next_ids = self.forward(prompts, cache).argmax(-1)
        first = time.perf_counter() - start
        tokens = [next_ids]
        for _ in range(NEW_TOKENS - 1):
            next_ids = self.forward(next_ids[:, None], cache).argmax(-1)
            tokens.append(next_ids)
        return torch.stack(tokens, dim=1), first


def measure(model, prompts, warmup, repeats):
    totals, firsts = [], []
    for run in range(warmup + repeats):
        start = time.perf_counter()
        tokens, first = model.generate(prompts)
        total = time.perf_counter() - start
        assert tokens.shape == (prompts.shape[0], NEW_TOKENS)
        if run >= warmup:
            totals.append(total)
            firsts.append(first)
    total, first = statistics.median(totals), statistics.median(firsts)
    rows = prompts.shape[0]
    return {"tokens_per_s": rows * NEW_TOKENS / total,
            "decode_tokens_per_s": rows * (NEW_TOKENS - 1) / (total - first),
            "first_token_ms": 1000 * first}


def linears_alone(model, warmup, repeats):
    """The 57 products of one token (every layer's seven linears and the LM head) back to back, one
    row, as `llm bench`'s "linear layers alone": milliseconds per token."""
    weights = [layer[name] for layer in model.w["layers"] for name in ("q", "k", "v", "o", "gate", "up", "down")]
    weights.append(model.w["head"])
    inputs = [torch.randn(1, w.shape[1]) for w in weights]
    times = []
    for run in range(warmup + repeats):
        start = time.perf_counter()
        for _ in range(NEW_TOKENS):
            for x, w in zip(inputs, weights):
                F.linear(x, w)
        if run >= warmup:
            times.append((time.perf_counter() - start) / NEW_TOKENS)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = Model(weights(torch.Generator().manual_seed(1)))
    prompts = torch.randint(0, VOCAB, (BATCH, PROMPT), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():  # as transformers' generate(); inference_mode would be ~10% faster
        single = measure(model, prompts[:1], args.warmup, args.repeats)
        batched = measure(model, prompts, args.warmup, args.repeats)
        linears = linears_alone(model, args.warmup, args.repeats)
    step_ms = 1000 / single["decode_tokens_per_s"]
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "batch_1": single,
                      "batch_16": batched, "linears_alone_ms_per_token": linears,
                      "decode_step_ms": step_ms, "share_outside_linears": 1 - linears / step_ms,
                      "batch_16_over_batch_1": batched["tokens_per_s"] / single["tokens_per_s"]}, indent=2))


if __name__ == "__main__":
    main()
