"""Convert a PyTorch ConvNeXt checkpoint (.pth / .pt) to .safetensors, which convnext-ts reads.

    python data-scripts/convert_pth.py convnext_tiny_1k_224_ema.pth convnext_tiny.safetensors
    npx convnext predict --model convnext_tiny --weights convnext_tiny.safetensors cat.jpg

Accepts the official repository's checkpoints ({'model': state_dict}), timm's (a bare state dict), and
training checkpoints whose weights sit under 'model', 'state_dict' or another key (--key). Wrapper
prefixes (module., model., _orig_mod.) are removed. Keys keep their convention (official or timm):
convnext-ts detects it when loading. Needs torch and safetensors (pip install torch safetensors).
"""
import argparse
import os
import re
import sys
import zipfile

import torch
from safetensors.torch import save_file

NESTED_KEYS = ('state_dict', 'model', 'module')
PREFIXES = ('module.', 'model.', '_orig_mod.')


def is_state_dict(obj):
    return isinstance(obj, dict) and len(obj) > 0 and all(torch.is_tensor(v) for v in obj.values())


def find_state_dict(ckpt, key):
    if key is not None:
        if not isinstance(ckpt, dict) or key not in ckpt:
            keys = list(ckpt) if isinstance(ckpt, dict) else []
            raise SystemExit(f'error: checkpoint has no key {key!r} (top-level keys: {keys})')
        ckpt = ckpt[key]
    elif not is_state_dict(ckpt):
        for k in NESTED_KEYS:
            if isinstance(ckpt, dict) and is_state_dict(ckpt.get(k)):
                print(f'using the state dict under {k!r}')
                ckpt = ckpt[k]
                break
    if not isinstance(ckpt, dict):
        raise SystemExit(f'error: expected a state dict, found {type(ckpt).__name__}')
    tensors = {k: v for k, v in ckpt.items() if torch.is_tensor(v)}
    if not tensors:
        raise SystemExit(f'error: no tensors found; top-level keys: {list(ckpt)[:10]} (choose one with --key)')
    return tensors


def strip_prefixes(sd):
    while True:
        p = next((p for p in PREFIXES if all(k.startswith(p) for k in sd)), None)
        if p is None:
            return sd
        sd = {k[len(p):]: v for k, v in sd.items()}


def load(path, unsafe):
    if not os.path.isfile(path):
        raise SystemExit(f'error: checkpoint not found: {path}')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        msg = str(e)
        # Pickled non-tensor objects, e.g. the argparse.Namespace of training checkpoints.
        unsupported = re.search(r'Unsupported global: GLOBAL (\S+)', msg)
        if unsupported and not unsafe:
            raise SystemExit(f'error: {path} holds a {unsupported.group(1)} besides tensors; if you trust the file, '
                             'rerun with --unsafe to unpickle it fully')
        if not unsupported:
            why = msg.splitlines()[0][:200] if zipfile.is_zipfile(path) else 'not a torch.save archive'
            raise SystemExit(f'error: cannot read {path} as a PyTorch checkpoint: {why}')
    return torch.load(path, map_location='cpu', weights_only=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('input', help='PyTorch checkpoint (.pth, .pt, .bin)')
    ap.add_argument('output', help='safetensors file to write')
    ap.add_argument('--key', help="checkpoint entry holding the weights, e.g. 'model_ema' (default: found automatically)")
    ap.add_argument('--dtype', choices=['keep', 'f32', 'f16', 'bf16'], default='keep',
                    help='store floating tensors as this type (default: as in the checkpoint)')
    ap.add_argument('--unsafe', action='store_true',
                    help='allow full unpickling (arbitrary code!) for checkpoints with non-tensor objects')
    args = ap.parse_args(argv)

    sd = strip_prefixes(find_state_dict(load(args.input, args.unsafe), args.key))
    cast = {'f32': torch.float32, 'f16': torch.float16, 'bf16': torch.bfloat16}.get(args.dtype)
    # clone(): safetensors refuses tensors that share storage (tied or sliced weights).
    out = {k: (v.to(cast) if cast is not None and v.is_floating_point() else v).contiguous().clone()
           for k, v in sd.items()}
    timm = any(k.startswith('stem.') or '.blocks.' in k or k.startswith('head.fc.') for k in out)
    meta = {'format': 'pt', 'source': os.path.basename(args.input), 'convention': 'timm' if timm else 'official'}
    tmp = f'{args.output}.tmp-{os.getpid()}'
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    save_file(out, tmp, metadata=meta)
    os.replace(tmp, args.output)
    params = sum(v.numel() for v in out.values() if v.is_floating_point())
    print(f'wrote {args.output}: {len(out)} tensors, {params:,} values, {meta["convention"]} keys')
    return 0


if __name__ == '__main__':
    sys.exit(main())
