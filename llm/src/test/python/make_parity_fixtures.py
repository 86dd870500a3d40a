#!/usr/bin/python3
"""Writes the parity fixtures of the llm module: tiny models in HuggingFace layout and the logits
an independent implementation computes for them.

The reference forward pass below is a transcription of HuggingFace transformers' modeling code
(modeling_llama.py, modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py and the llama3 branch
of modeling_rope_utils.py) with the eager attention path: RMSNorm in fp32 with eps inside the
rsqrt, rotate_half rotary embedding with inv_freq computed in fp32, repeat_kv for grouped-query
attention, an additive mask of finfo.min, softmax in fp32, SwiGLU MLP, final norm and LM head
(or tied embeddings). It shares no code with the Java implementation it checks.

Run from anywhere (Debian's torch: apt-get install python3-torch; no transformers needed):
    /usr/bin/python3 llm/src/test/python/make_parity_fixtures.py
It rewrites llm/src/test/resources/parity/<name>/ and <name>-bf16/ with
    config.json, model.safetensors              the model (fp32, or weights stored as BF16)
    expected.safetensors                        logits [B, T, V] and inv_freq [head_dim / 2], F32
    expected.json                               input_ids, attention_mask, position_ids
The bf16 variant stores the weights rounded to bf16; its expected logits are computed in fp32 from
those rounded weights, which is what the Java code does (it widens BF16 to fp32 on load).
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "parity")

COMMON = dict(vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, hidden_act="silu",
              max_position_embeddings=2048, initializer_range=0.02, bos_token_id=1, eos_token_id=2)

MODELS = {
    # Llama 3 style: llama3 rope scaling whose three wavelength bands (kept, smoothed, divided by
    # factor) all occur with head_dim 16 and rope_theta 500000, GQA, untied head.
    "llama": dict(COMMON, model_type="llama", architectures=["LlamaForCausalLM"], rms_norm_eps=1e-5,
                  rope_theta=500000.0, attention_bias=False, mlp_bias=False, tie_word_embeddings=False,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                    high_freq_factor=4.0, original_max_position_embeddings=1024)),
    # Llama 2 style multi-head attention and plain rope; biases switched on to cover attention_bias
    # (q, k, v and o) and mlp_bias.
    "llama2": dict(COMMON, model_type="llama", architectures=["LlamaForCausalLM"], rms_norm_eps=1e-5,
                   num_key_value_heads=4, rope_theta=10000.0, rope_scaling=None, attention_bias=True,
                   mlp_bias=True, tie_word_embeddings=False),
    # Explicit head_dim unlike hidden / heads, and a sliding window shorter than the sequence.
    "mistral": dict(COMMON, model_type="mistral", architectures=["MistralForCausalLM"], rms_norm_eps=1e-6,
                    head_dim=32, rope_theta=1000000.0, sliding_window=4, tie_word_embeddings=False),
    # q/k/v biases, tied embeddings.
    "qwen2": dict(COMMON, model_type="qwen2", architectures=["Qwen2ForCausalLM"], rms_norm_eps=1e-6,
                  rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
                  sliding_window=4096, max_window_layers=2),
    # Per-head q/k RMSNorm, explicit head_dim, tied embeddings.
    "qwen3": dict(COMMON, model_type="qwen3", architectures=["Qwen3ForCausalLM"], rms_norm_eps=1e-6,
                  head_dim=32, rope_theta=1000000.0, attention_bias=False, tie_word_embeddings=True,
                  use_sliding_window=False, sliding_window=None, max_window_layers=2),
}

SEEDS = {"llama": 11, "llama2": 12, "mistral": 13, "qwen2": 14, "qwen3": 15}

# Weights are drawn larger than HF's init (std 0.02) so that logits spread over several units and
# a 1e-4 tolerance is a strict test; biases and norm weights are random so that each one matters.
WEIGHT_STD = 0.2
EMBED_STD = 0.5
BIAS_STD = 0.1
NORM_STD = 0.1


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def parameter_shapes(cfg):
    """Parameter names and shapes as HuggingFace's state_dict has them."""
    h, i, v, d = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], head_dim(cfg)
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    t = cfg["model_type"]
    qkv_bias = t == "qwen2" or (t in ("llama", "qwen3") and cfg.get("attention_bias", False))
    o_bias = t in ("llama", "qwen3") and cfg.get("attention_bias", False)
    mlp_bias = t == "llama" and cfg.get("mlp_bias", False)
    shapes = {"model.embed_tokens.weight": [v, h]}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        for name, out_dim in (("q_proj", nh * d), ("k_proj", nkv * d), ("v_proj", nkv * d)):
            shapes[p + f"self_attn.{name}.weight"] = [out_dim, h]
            if qkv_bias:
                shapes[p + f"self_attn.{name}.bias"] = [out_dim]
        shapes[p + "self_attn.o_proj.weight"] = [h, nh * d]
        if o_bias:
            shapes[p + "self_attn.o_proj.bias"] = [h]
        if t == "qwen3":
            shapes[p + "self_attn.q_norm.weight"] = [d]
            shapes[p + "self_attn.k_norm.weight"] = [d]
        for name, shape in (("gate_proj", [i, h]), ("up_proj", [i, h]), ("down_proj", [h, i])):
            shapes[p + f"mlp.{name}.weight"] = shape
            if mlp_bias:
                shapes[p + f"mlp.{name}.bias"] = [shape[0]]
        shapes[p + "input_layernorm.weight"] = [h]
        shapes[p + "post_attention_layernorm.weight"] = [h]
    shapes["model.norm.weight"] = [h]
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = [v, h]
    return shapes


def random_weights(cfg, seed):
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for name, shape in parameter_shapes(cfg).items():
        noise = torch.randn(shape, generator=gen, dtype=torch.float32)
        if name.endswith("norm.weight"):
            weights[name] = 1.0 + NORM_STD * noise
        elif name.endswith(".bias"):
            weights[name] = BIAS_STD * noise
        elif name == "model.embed_tokens.weight":
            weights[name] = EMBED_STD * noise
        else:
            weights[name] = WEIGHT_STD * noise
    return weights


# ---- reference forward pass, following transformers' modeling code --------------------------


def rms_norm(x, weight, eps):
    input_dtype = x.dtype
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(variance + eps)
    return weight * x.to(input_dtype)


def rope_inv_freq(cfg):
    """_compute_default_rope_parameters / _compute_linear_scaling / _compute_llama3_parameters."""
    dim = head_dim(cfg)
    base = cfg["rope_theta"]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv_freq
    rope_type = scaling.get("rope_type", scaling.get("type"))
    if rope_type == "linear":
        return inv_freq / scaling["factor"]
    assert rope_type == "llama3", rope_type
    factor = scaling["factor"]
    low_freq_factor = scaling["low_freq_factor"]
    high_freq_factor = scaling["high_freq_factor"]
    old_context_len = scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rotary_cos_sin(inv_freq, position_ids):
    inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
    position_ids_expanded = position_ids[:, None, :].float()
    freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, hd = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, hd)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, hd)


def linear(x, weights, name):
    return F.linear(x, weights[name + ".weight"], weights.get(name + ".bias"))


def attention(cfg, w, p, x, cos, sin, mask):
    bsz, q_len, _ = x.shape
    d = head_dim(cfg)
    hidden_shape = (bsz, q_len, -1, d)
    q = linear(x, w, p + "q_proj").view(hidden_shape)
    k = linear(x, w, p + "k_proj").view(hidden_shape)
    v = linear(x, w, p + "v_proj").view(hidden_shape)
    if cfg["model_type"] == "qwen3":  # q_norm / k_norm on the head dim, before rope
        q = rms_norm(q, w[p + "q_norm.weight"], cfg["rms_norm_eps"])
        k = rms_norm(k, w[p + "k_norm.weight"], cfg["rms_norm_eps"])
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    q, k = apply_rotary_pos_emb(q, k, cos, sin)
    groups = cfg["num_attention_heads"] // cfg["num_key_value_heads"]
    k = repeat_kv(k, groups)
    v = repeat_kv(v, groups)
    attn_weights = torch.matmul(q, k.transpose(2, 3)) * d ** -0.5
    attn_weights = attn_weights + mask[:, :, :, : k.shape[-2]]
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(q.dtype)
    out = torch.matmul(attn_weights, v).transpose(1, 2).contiguous()
    return linear(out.reshape(bsz, q_len, -1), w, p + "o_proj")


def mlp(w, p, x):
    return linear(F.silu(linear(x, w, p + "gate_proj")) * linear(x, w, p + "up_proj"), w, p + "down_proj")


def sliding_window(cfg):
    if cfg["model_type"] == "mistral":
        return cfg.get("sliding_window")
    if cfg["model_type"] in ("qwen2", "qwen3") and cfg.get("use_sliding_window"):
        raise ValueError("fixtures do not use qwen sliding windows")
    return None


def attention_mask_4d(attention_mask, window, dtype=torch.float32):
    """Causal (and sliding window) mask combined with the padding mask, additive finfo.min."""
    _, t = attention_mask.shape
    q_idx = torch.arange(t)[:, None]
    kv_idx = torch.arange(t)[None, :]
    allowed = kv_idx <= q_idx
    if window is not None:
        allowed = allowed & (kv_idx > q_idx - window)
    allowed = allowed[None, None, :, :] & attention_mask[:, None, None, :].bool()
    zero = torch.zeros((), dtype=dtype)
    return torch.where(allowed, zero, torch.tensor(torch.finfo(dtype).min, dtype=dtype))


def forward(cfg, w, input_ids, attention_mask, position_ids):
    x = F.embedding(input_ids, w["model.embed_tokens.weight"])
    cos, sin = rotary_cos_sin(rope_inv_freq(cfg), position_ids)
    mask = attention_mask_4d(attention_mask, sliding_window(cfg))
    eps = cfg["rms_norm_eps"]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        x = x + attention(cfg, w, p + "self_attn.", rms_norm(x, w[p + "input_layernorm.weight"], eps), cos, sin, mask)
        x = x + mlp(w, p + "mlp.", rms_norm(x, w[p + "post_attention_layernorm.weight"], eps))
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return F.linear(x, head)


# ---- files -----------------------------------------------------------------------------------

DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float32:
        return t.numpy().astype("<f4").tobytes()
    return t.numpy().astype("<i8").tobytes()


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        data = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPE_NAMES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in blobs:
            f.write(data)


def inputs(cfg, seed):
    """A padded batch: row 0 full, row 1 left-padded by 3, row 2 right-padded by 2 (pad id 0)."""
    gen = torch.Generator().manual_seed(seed + 1000)
    t = 8
    input_ids = torch.randint(3, cfg["vocab_size"], (3, t), generator=gen, dtype=torch.int64)
    attention_mask = torch.ones(3, t, dtype=torch.int64)
    attention_mask[1, :3] = 0
    attention_mask[2, t - 2:] = 0
    input_ids = input_ids * attention_mask  # pad id 0 where masked
    # As transformers' generate() does: positions count only real tokens.
    position_ids = attention_mask.cumsum(-1) - 1
    position_ids = position_ids.masked_fill(attention_mask == 0, 1)
    return input_ids, attention_mask, position_ids


def write_fixture(name, cfg, weights, torch_dtype, input_ids, attention_mask, position_ids):
    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    config = dict(cfg, torch_dtype=torch_dtype)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    stored = {k: v.to(torch.bfloat16) if torch_dtype == "bfloat16" else v for k, v in weights.items()}
    write_safetensors(os.path.join(directory, "model.safetensors"), stored)
    compute_weights = {k: v.to(torch.float32) for k, v in stored.items()}
    with torch.no_grad():
        logits = forward(cfg, compute_weights, input_ids, attention_mask, position_ids)
    write_safetensors(os.path.join(directory, "expected.safetensors"),
                      {"logits": logits.contiguous(), "inv_freq": rope_inv_freq(cfg).contiguous()})
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"input_ids": input_ids.tolist(), "attention_mask": attention_mask.tolist(),
                   "position_ids": position_ids.tolist(),
                   "note": "logits in expected.safetensors are valid where attention_mask is 1"}, f, indent=1)
        f.write("\n")
    return logits


def main():
    torch.set_num_threads(1)
    for name, cfg in MODELS.items():
        weights = random_weights(cfg, SEEDS[name])
        input_ids, attention_mask, position_ids = inputs(cfg, SEEDS[name])
        logits = write_fixture(name, cfg, weights, "float32", input_ids, attention_mask, position_ids)
        write_fixture(name + "-bf16", cfg, weights, "bfloat16", input_ids, attention_mask, position_ids)
        valid = logits[attention_mask.bool()]
        print(f"{name}: logits std {valid.std().item():.3f}, max |logit| {valid.abs().max().item():.3f}")


if __name__ == "__main__":
    main()
