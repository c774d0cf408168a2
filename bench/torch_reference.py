#!/usr/bin/env python3
"""PyTorch side of `npm run bench`: times a ConvNeXt written here from the paper's definition, and
the Swin and ViT models (timm names, e.g. swin_tiny_patch4_window7_224, vit_small_patch16_224) through timm
when timm imports here (`--check-timm` says whether it does; else the bench shows PyTorch n/a for them).

The model follows Liu et al. 2022 (Fig. 4 and Sec. 2): a 4x4 stride-4 "patchify" stem + LayerNorm,
stages of blocks (7x7 depthwise conv -> LayerNorm -> Linear 4C -> GELU -> Linear C -> layer scale ->
stochastic depth -> residual), LayerNorm + 2x2 stride-2 conv between stages, global average pooling,
LayerNorm and a linear head. Parameter names are the official repository's, so the safetensors file
that convnext-ts writes (`saveWeights`) loads with `load_state_dict(strict=True)`: both sides then run
the very same weights, and `--check-input/--check-logits` compares their eval-mode outputs.

One invocation measures one case and prints one JSON line on stdout, e.g.
  python3 bench/torch_reference.py --model convnext_tiny --size 224 --batch 16 --mode train \
      --threads 2 --min-iters 5 --min-seconds 20
  python3 bench/torch_reference.py --peak        # matmul GFLOP/s of this CPU through PyTorch
  python3 bench/torch_reference.py --model swin_tiny_patch4_window7_224 --batch 1 --threads 2   # via timm
  python3 bench/torch_reference.py --check-timm  # {"timm": "1.0.29"} or {"timm": null, "error": ...}
  python3 bench/torch_reference.py --linears 196x384x1536,49x3072x768   # F.linear alone, [M, K] x [K, N]
"""
import argparse
import itertools
import os
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = {
    "convnext_atto": ([2, 2, 6, 2], [40, 80, 160, 320]),
    "convnext_femto": ([2, 2, 6, 2], [48, 96, 192, 384]),
    "convnext_pico": ([2, 2, 6, 2], [64, 128, 256, 512]),
    "convnext_nano": ([2, 2, 8, 2], [80, 160, 320, 640]),
    "convnext_tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "convnext_small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "convnext_base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
}


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over C of an NCHW tensor (stem and downsampling layers)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        # permute -> fused layer_norm kernel -> permute: PyTorch's fastest form of this norm.
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def drop_path(x, rate, training):
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class Block(nn.Module):
    def __init__(self, dim, drop_path_rate=0.0, layer_scale_init=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init * torch.ones(dim))
        self.drop_path_rate = drop_path_rate

    def forward(self, x):
        h = self.dwconv(x).permute(0, 2, 3, 1)  # NCHW -> NHWC for the Linears
        h = self.pwconv2(F.gelu(self.pwconv1(self.norm(h))))
        h = (self.gamma * h).permute(0, 3, 1, 2)
        return x + drop_path(h, self.drop_path_rate, self.training)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims, num_classes=1000, drop_path_rate=0.0):
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(3, dims[0], kernel_size=4, stride=4), ChannelsFirstLayerNorm(dims[0]))]
            + [nn.Sequential(ChannelsFirstLayerNorm(dims[i]), nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2))
               for i in range(len(dims) - 1)])
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        stages, cur = [], 0
        for depth, dim in zip(depths, dims):
            stages.append(nn.Sequential(*[Block(dim, rates[cur + j]) for j in range(depth)]))
            cur += depth
        self.stages = nn.ModuleList(stages)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean([-2, -1])))


def param_groups(model, weight_decay):
    """As the official optim factory: no decay on 1-D parameters, biases and gammas."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") or name.endswith(".gamma") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def timed(step, warmup, min_iters, max_iters, min_seconds):
    for _ in range(warmup):
        step()
    times, start = [], time.perf_counter()
    while len(times) < max_iters and (len(times) < min_iters or time.perf_counter() - start < min_seconds):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000.0)
    return times


def peak_matmul(n, min_seconds, min_iters=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    times = timed(lambda: torch.mm(a, b), 2, min_iters, 1000, min_seconds)
    return 2.0 * n ** 3 / (min(times) / 1000.0) / 1e9, times


def import_timm():
    """timm, or the reason it does not import (timm imports torchvision: scripts/torch_compat.py)."""
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
        from torch_compat import import_torchvision
        import_torchvision()
        import timm
        return timm, None
    except Exception as err:  # ImportError, or a broken torchvision
        return None, f"{type(err).__name__}: {err}"


def timm_model(name, size, num_classes, drop_path):
    """A timm model by its registry name; at a size other than its own, built as ours runs it (Swin pads its maps,
    ViT resamples its position embedding)."""
    timm, err = import_timm()
    if timm is None:
        raise RuntimeError(f"timm does not import: {err}")
    kwargs = {"num_classes": num_classes, "drop_path_rate": drop_path}
    native = timm.create_model(name, pretrained=False, device="meta").default_cfg.get("input_size", (3, 224, 224))[-1]
    if size != native and name.startswith("swin"):
        kwargs["strict_img_size"] = False
    elif size != native:
        kwargs["dynamic_img_size"] = True
    return timm.create_model(name, pretrained=False, **kwargs)


def time_linears(shapes, rounds=40):
    """Median ms of F.linear (with bias, as nn.Linear) for each MxKxN (an [M, K] input, an [N, K] weight): hot,
    the same weight every call, and cold, cycling through enough weights (64 MiB) that each comes from memory,
    as inside a forward pass."""
    out = []
    with torch.inference_mode():
        for shape in shapes.split(","):
            m, k, n = (int(v) for v in shape.split("x"))
            x, b = torch.randn(m, k), torch.randn(n)
            ws = [torch.randn(n, k) for _ in range(-(-(64 << 20) // (4 * n * k)))]
            hot = sorted(timed(lambda: F.linear(x, ws[0], b), 5, rounds, rounds, 0.0))
            calls = itertools.count()
            cold = sorted(timed(lambda: F.linear(x, ws[next(calls) % len(ws)], b), 0, rounds, rounds, 0.0))
            out.append({"m": m, "k": k, "n": n, "hot_ms": hot[len(hot) // 2], "cold_ms": cold[len(cold) // 2]})
    return out


def load_check(path, shape):
    return torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.float32).reshape(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="convnext_tiny",
                    help=f"{', '.join(sorted(VARIANTS))} (written here), or a timm model name (through timm)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--mode", choices=["eval", "train"], default="eval")
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--drop-path", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-iters", type=int, default=5)
    ap.add_argument("--max-iters", type=int, default=200)
    ap.add_argument("--min-seconds", type=float, default=10.0)
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (default NCHW)")
    ap.add_argument("--weights", help="safetensors state dict written by convnext-ts (official names)")
    ap.add_argument("--check-input", help="raw float32 NHWC input the logits below were computed from")
    ap.add_argument("--check-logits", help="raw float32 eval-mode logits from convnext-ts for that input")
    ap.add_argument("--peak", action="store_true", help="measure matmul GFLOP/s instead of a model")
    ap.add_argument("--peak-n", type=int, default=2048)
    ap.add_argument("--anchor-peak-n", type=int, default=0,
                    help="with a model: also measure this process's n x n matmul GFLOP/s first (the anchor's health)")
    ap.add_argument("--check-timm", action="store_true", help="print whether timm imports, and exit")
    ap.add_argument("--linears", help="time F.linear alone for these comma-separated MxKxN shapes")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    info = {"framework": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(), "flush_denormal": False}
    if a.linears:
        print(json.dumps({**info, "linears": time_linears(a.linears)}))
        return
    if a.peak:
        gflops, times = peak_matmul(a.peak_n, 3.0)
        print(json.dumps({**info, "peak_gflops": gflops, "n": a.peak_n, "times_ms": times}))
        return
    if a.check_timm:
        timm, err = import_timm()
        print(json.dumps({**info, "timm": timm.__version__ if timm else None, "error": err}))
        return

    anchor = {}
    if a.anchor_peak_n:
        # Best of 1 s of products (at least 5): a few calls alone catch passing load, not a degraded process.
        gflops, _ = peak_matmul(a.anchor_peak_n, 1.0, min_iters=5)
        anchor = {"anchor_peak_gflops": gflops, "anchor_peak_n": a.anchor_peak_n}
    if a.model in VARIANTS:
        depths, dims = VARIANTS[a.model]
        model = ConvNeXt(depths, dims, a.num_classes, a.drop_path)
        info["implementation"] = "bench/torch_reference.py"
    else:
        model = timm_model(a.model, a.size, a.num_classes, a.drop_path)
        info["implementation"] = f"timm {sys.modules['timm'].__version__}"
    if a.weights:
        from safetensors.torch import load_file
        model.load_state_dict(load_file(a.weights), strict=True)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)

    out = {**info, **anchor, "model": a.model, "size": a.size, "batch": a.batch, "mode": a.mode,
           "memory_format": "channels_last" if a.channels_last else "NCHW"}
    if a.check_input and a.check_logits:
        x = load_check(a.check_input, (-1, a.size, a.size, 3)).permute(0, 3, 1, 2).contiguous(memory_format=fmt)
        expected = load_check(a.check_logits, (x.shape[0], a.num_classes))
        model.eval()
        with torch.inference_mode():
            out["check_max_abs_diff"] = (model(x) - expected).abs().max().item()
            out["check_max_abs_logit"] = expected.abs().max().item()

    x = torch.randn(a.batch, 3, a.size, a.size).contiguous(memory_format=fmt)
    if a.mode == "eval":
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)
    else:
        model.train()
        # Soft targets (as after mixup / label smoothing) and AdamW as in the paper's recipe.
        targets = F.one_hot(torch.randint(0, a.num_classes, (a.batch,)), a.num_classes).float()
        opt = torch.optim.AdamW(param_groups(model, 0.05), lr=4e-3, betas=(0.9, 0.999), eps=1e-8)

        def step():
            loss = torch.sum(-targets * F.log_softmax(model(x), dim=-1), dim=-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()

    times = timed(step, a.warmup, a.min_iters, a.max_iters, a.min_seconds)
    out.update({
        "times_ms": times, "min_ms": min(times), "median_ms": statistics.median(times), "max_ms": max(times),
        "images_per_s": a.batch * 1000.0 / statistics.median(times),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    })
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
