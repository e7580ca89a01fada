"""A light encoder for BERT-family sentence-transformers models (all-MiniLM-L6-v2): torch, the
``tokenizers`` tokenizer and the safetensors weights, without importing sentence-transformers or
transformers.

Why: importing sentence-transformers (which imports transformers) is most of a cold ``carecite ask``
(measured ~4.5 s of ~6 s on an idle core; torch alone is ~1 s). The model is small and standard —
BERT encoder → mean pooling over the attention mask → L2 normalisation, exactly what its
``modules.json`` declares — so it is computed here directly. ``LightEncoder.supports`` accepts only
that layout; anything else goes through sentence-transformers (``embedder.py``). The vectors equal
sentence-transformers' to float32 rounding (checked by tests/retrieval/test_embedder.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from carecite.ports import Vector

_LAYOUT = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


@cache
def _blas() -> Any:
    """numpy's BLAS thread pools (threadpoolctl), found once per process."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _shape_and_tokenizer(model_dir: Path) -> tuple[int, int, int, float, Any]:
    """What both encoders read the same way: max length, heads, layers, layer-norm eps, tokenizer."""
    from tokenizers import Tokenizer

    config = _json(model_dir / "config.json")
    st_config = _json(model_dir / "sentence_bert_config.json")
    max_len = int(st_config.get("max_seq_length") or 256)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_len)
    tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")
    heads, layers = int(config["num_attention_heads"]), int(config["num_hidden_layers"])
    return max_len, heads, layers, float(config.get("layer_norm_eps", 1e-12)), tokenizer


class LightEncoder:
    """Mean-pooled, normalised BERT embeddings of a local sentence-transformers model directory."""

    @staticmethod
    def supports(model_dir: Path) -> bool:
        try:
            modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
            pooling = _json(model_dir / "1_Pooling" / "config.json")
            config = _json(model_dir / "config.json")
        except (OSError, ValueError):
            return False
        return (
            [m.get("type") for m in modules] == _LAYOUT
            and pooling.get("pooling_mode_mean_tokens") is True
            and not any(
                v
                for k, v in pooling.items()
                if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
            )
            and config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (model_dir / "model.safetensors").is_file()
            and (model_dir / "tokenizer.json").is_file()
        )

    def __init__(self, model_dir: Path) -> None:
        import torch
        from safetensors.torch import load_file

        self.max_len, self.heads, self.layers, self.eps, self.tokenizer = _shape_and_tokenizer(model_dir)
        self.w: dict[str, Any] = {
            k: v.float() for k, v in load_file(str(model_dir / "model.safetensors")).items()
        }
        self.torch = torch

    def _ln(self, x: Any, name: str) -> Any:
        return self.torch.nn.functional.layer_norm(
            x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps
        )

    def _lin(self, x: Any, name: str) -> Any:
        return self.torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def _forward(self, ids: Any, types: Any, mask: Any) -> Any:
        torch, w = self.torch, self.w
        n, length = ids.shape
        positions = torch.arange(length).unsqueeze(0)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        head = hidden // self.heads
        # Padding gets a large negative score, as in BERT's extended attention mask.
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: Any) -> Any:
                return t.view(n, length, self.heads, head).transpose(1, 2)

            q = split(self._lin(x, f"{p}.attention.self.query"))
            k = split(self._lin(x, f"{p}.attention.self.key"))
            v = split(self._lin(x, f"{p}.attention.self.value"))
            ctx = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            ctx = ctx.transpose(1, 2).reshape(n, length, hidden)
            x = self._ln(self._lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(self._lin(x, f"{p}.intermediate.dense"))
            x = self._ln(self._lin(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        m = mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def encode(self, texts: list[str], batch_size: int = 64) -> Vector:
        """Unit vectors, one per text; batches are formed from length-sorted texts (less padding)."""
        torch = self.torch
        cleaned = [t.strip() for t in texts]
        encodings = self.tokenizer.encode_batch(cleaned) if cleaned else []
        order = sorted(range(len(cleaned)), key=lambda i: -sum(encodings[i].attention_mask))
        out = np.zeros((len(cleaned), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = [encodings[i] for i in idx]
                width = max(sum(e.attention_mask) for e in batch)
                ids = torch.tensor([e.ids[:width] for e in batch], dtype=torch.long)
                types = torch.tensor([e.type_ids[:width] for e in batch], dtype=torch.long)
                mask = torch.tensor([e.attention_mask[:width] for e in batch], dtype=torch.long)
                out[idx] = self._forward(ids, types, mask).numpy()
        return out


def _erf(x: Vector) -> Vector:
    """erf in numpy (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, below float32 resolution of
    GELU's output): scipy.special would add an import on the cold path for one function."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    out: Vector = sign * (1.0 - poly * np.exp(-a * a))
    return out


class NumpyEncoder:
    """``LightEncoder``'s forward pass in numpy: no torch import at all (seconds off a cold start).

    Used for the few texts a request embeds (its question); bulk encoding at ingest keeps torch,
    whose kernels are faster on long batches. Same weights, same tokenizer, same pooling: the
    vectors equal torch's to float32 rounding (tests/retrieval/test_embedder.py)."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file

        self.max_len, self.heads, self.layers, self.eps, self.tokenizer = _shape_and_tokenizer(model_dir)
        self.w: dict[str, Vector] = {
            k: np.asarray(v, dtype=np.float32)
            for k, v in load_file(str(model_dir / "model.safetensors")).items()
        }
        # nn.Linear stores (out, in): transpose once so every product is x @ W.
        for k in [
            k for k in self.w if k.endswith(".weight") and self.w[k].ndim == 2 and "embeddings" not in k
        ]:
            self.w[k] = np.ascontiguousarray(self.w[k].T)

    def _ln(self, x: Vector, name: str) -> Vector:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        out: Vector = (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]
        return out

    def _lin(self, x: Vector, name: str) -> Vector:
        out: Vector = x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]
        return out

    def _forward(self, ids: np.ndarray[Any, Any], types: np.ndarray[Any, Any], mask: Vector) -> Vector:
        w = self.w
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        head = hidden // self.heads
        bias = ((1.0 - mask[:, None, None, :]) * np.finfo(np.float32).min).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: Vector) -> Vector:
                return t.reshape(n, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._lin(x, f"{p}.attention.self.query"))
            k = split(self._lin(x, f"{p}.attention.self.key"))
            v = split(self._lin(x, f"{p}.attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, hidden)
            x = self._ln(self._lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            pre = self._lin(x, f"{p}.intermediate.dense")
            inner = 0.5 * pre * (1.0 + _erf(pre / np.float32(np.sqrt(2.0))))
            x = self._ln(
                self._lin(inner.astype(np.float32), f"{p}.output.dense") + x, f"{p}.output.LayerNorm"
            )
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        out: Vector = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 64) -> Vector:
        """Unit vectors, one per text (same batching rule as ``LightEncoder.encode``)."""
        cleaned = [t.strip() for t in texts]
        encodings = self.tokenizer.encode_batch(cleaned) if cleaned else []
        order = sorted(range(len(cleaned)), key=lambda i: -sum(encodings[i].attention_mask))
        out = np.zeros((len(cleaned), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = [encodings[i] for i in idx]
            width = max(sum(e.attention_mask) for e in batch)
            ids = np.array([e.ids[:width] for e in batch], dtype=np.int64)
            types = np.array([e.type_ids[:width] for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask[:width] for e in batch], dtype=np.float32)
            # One BLAS thread: a request's few texts are small matrices, and OpenBLAS's default
            # threads spin against each other on a shared 2-core machine (measured: 497 ms a query
            # with them, 27.5 ms with one; docs/benchmarks.md).
            with _blas().limit(limits=1, user_api="blas"):
                out[idx] = self._forward(ids, types, mask)
        return out
