"""Hyper-parameter sweep for the CIFAR-10 benchmark, in PyTorch on a GPU: the same ConvNeXt (stem, stages,
blocks, LN, GELU, layer scale, head), the same data (JPEG CIFAR-10), augmentation (pad-4 crop + flip),
AdamW with no decay on 1-D params, per-iteration warmup + cosine, label smoothing, as src/train."""
import json, math, os, sys, tarfile, time, io
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from concurrent.futures import ProcessPoolExecutor

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get('OUT', '/tmp')

def load():
    cache = os.environ.get('CIFAR_NPZ', '/tmp/cifar.npz')
    if os.path.exists(cache):
        d = np.load(cache); return d['xtr'], d['ytr'], d['xte'], d['yte']
    from PIL import Image
    t = tarfile.open(os.environ.get('CIFAR_TAR', os.path.join(ROOT, 'cifar10-jpg.tar.gz')))
    data = {'train': ([], []), 'test': ([], [])}
    classes = sorted({m.name.split('/')[2] for m in t.getmembers() if m.isfile() and m.name.count('/') == 3})
    for m in t.getmembers():
        if not m.isfile() or not m.name.endswith('.jpg'): continue
        _, split, cls, _ = m.name.split('/')
        img = np.asarray(Image.open(io.BytesIO(t.extractfile(m).read())).convert('RGB'))
        data[split][0].append(img); data[split][1].append(classes.index(cls))
    xtr, ytr = np.stack(data['train'][0]), np.array(data['train'][1])
    xte, yte = np.stack(data['test'][0]), np.array(data['test'][1])
    np.savez(cache, xtr=xtr, ytr=ytr, xte=xte, yte=yte)
    return xtr, ytr, xte, yte

class LN(nn.Module):
    def __init__(s, c): super().__init__(); s.ln = nn.LayerNorm(c, eps=1e-6)
    def forward(s, x): return s.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

class Block(nn.Module):
    def __init__(s, d, k, ls):
        super().__init__()
        s.dw = nn.Conv2d(d, d, k, padding=k // 2, groups=d); s.norm = nn.LayerNorm(d, eps=1e-6)
        s.fc1 = nn.Linear(d, 4 * d); s.fc2 = nn.Linear(4 * d, d)
        s.gamma = nn.Parameter(torch.full((d,), ls)) if ls > 0 else None
    def forward(s, x):
        h = s.dw(x).permute(0, 2, 3, 1)
        h = s.fc2(F.gelu(s.fc1(s.norm(h))))
        if s.gamma is not None: h = h * s.gamma
        return x + h.permute(0, 3, 1, 2)

class ConvNeXt(nn.Module):
    def __init__(s, depths, dims, stem, k=7, ls=1e-6, ncls=10):
        super().__init__()
        s.down = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], stem, stride=stem), LN(dims[0]))])
        for i in range(1, len(dims)): s.down.append(nn.Sequential(LN(dims[i - 1]), nn.Conv2d(dims[i - 1], dims[i], 2, stride=2)))
        s.stages = nn.ModuleList([nn.Sequential(*[Block(dims[i], k, ls) for _ in range(depths[i])]) for i in range(len(dims))])
        s.norm = nn.LayerNorm(dims[-1], eps=1e-6); s.head = nn.Linear(dims[-1], ncls)
        for m in s.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)): nn.init.trunc_normal_(m.weight, std=.02); nn.init.zeros_(m.bias)
    def forward(s, x):
        for d, st in zip(s.down, s.stages): x = st(d(x))
        return s.head(s.norm(x.mean((2, 3))))

MODELS = {
    's4': dict(depths=[2, 2, 2, 2], dims=[64, 128, 256, 512], stem=4),
    's4w': dict(depths=[2, 2, 2, 2], dims=[96, 192, 384, 768], stem=4),
    's4x3': dict(depths=[2, 2, 2], dims=[128, 256, 512], stem=4, k=5),
    'nano': dict(depths=[2, 2, 2], dims=[64, 128, 256], stem=2),
    'pico': dict(depths=[2, 2, 2], dims=[32, 64, 128], stem=2),
    's2x4': dict(depths=[1, 1, 3, 1], dims=[32, 64, 128, 256], stem=2),
}

def run(cfg):
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(cfg.get('seed', 0))
    dev = 'cuda'
    xtr, ytr, xte, yte = load()
    mean = torch.tensor([0.4914, 0.4822, 0.4465], device=dev).view(1, 3, 1, 1); std = torch.tensor([0.247, 0.2435, 0.2616], device=dev).view(1, 3, 1, 1)
    Xtr = ((torch.tensor(xtr, device=dev).permute(0, 3, 1, 2).float() / 255) - mean) / std
    Xte = ((torch.tensor(xte, device=dev).permute(0, 3, 1, 2).float() / 255) - mean) / std
    Ytr = torch.tensor(ytr, device=dev); Yte = torch.tensor(yte, device=dev)
    m = dict(MODELS[cfg['model']]); m.update(cfg.get('arch', {}))
    model = ConvNeXt(ls=cfg.get('ls', 1.0), **m).to(dev)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]; nodecay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': cfg.get('wd', 5e-4)}, {'params': nodecay, 'weight_decay': 0}], lr=1, momentum=0.9, nesterov=True) if cfg.get('opt') == 'sgd' else \
        torch.optim.AdamW([{'params': decay, 'weight_decay': cfg.get('wd', 0.05)}, {'params': nodecay, 'weight_decay': 0}], lr=1, betas=tuple(cfg.get('betas', (0.9, 0.999))), eps=1e-8)
    B = cfg.get('bs', 128); E = cfg['epochs']; ipe = len(Xtr) // B; total = E * ipe; W = cfg.get('warmup', 150)
    lr0, lrmin = cfg.get('lr', 2e-3), cfg.get('minlr', 1e-5)
    sched = [lr0 * i / (W - 1) for i in range(W)] + [lrmin + 0.5 * (lr0 - lrmin) * (1 + math.cos(math.pi * i / (total - W))) for i in range(total - W)]
    ema = None
    if cfg.get('ema'): ema = [p.detach().clone() for p in model.parameters()]
    it = 0; hist = []; t0 = time.time()
    for ep in range(E):
        model.train(); perm = torch.randperm(len(Xtr), device=dev)
        for b in range(ipe):
            idx = perm[b * B:(b + 1) * B]; x = Xtr[idx]; y = Ytr[idx]
            xp = F.pad(x, (4, 4, 4, 4)); dy = torch.randint(0, 9, (B,), device=dev); dx = torch.randint(0, 9, (B,), device=dev)
            ar = torch.arange(32, device=dev)
            iy = (dy[:, None] + ar[None]); ix = (dx[:, None] + ar[None])
            x = xp[torch.arange(B, device=dev)[:, None, None, None], torch.arange(3, device=dev)[None, :, None, None], iy[:, None, :, None], ix[:, None, None, :]]
            flip = torch.rand(B, device=dev) < 0.5; x = torch.where(flip[:, None, None, None], x.flip(3), x)
            for g in opt.param_groups: g['lr'] = sched[it]
            loss = F.cross_entropy(model(x), y, label_smoothing=cfg.get('smooth', 0.1))
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); it += 1
            if ema is not None:
                with torch.no_grad():
                    for e, p in zip(ema, model.parameters()): e.mul_(cfg['ema']).add_(p.detach(), alpha=1 - cfg['ema'])
        model.eval()
        def acc():
            with torch.no_grad(): return sum((model(Xte[i:i + 1000]).argmax(1) == Yte[i:i + 1000]).sum().item() for i in range(0, 10000, 1000)) / 10000
        a = acc(); ea = None
        if ema is not None:
            live = [p.detach().clone() for p in model.parameters()]
            with torch.no_grad():
                for p, e in zip(model.parameters(), ema): p.copy_(e)
            ea = acc()
            with torch.no_grad():
                for p, l in zip(model.parameters(), live): p.copy_(l)
        hist.append((ep + 1, round(a, 4), ea and round(ea, 4), round(loss.item(), 3)))
    return {'cfg': cfg, 'final': hist[-1][1], 'ema': hist[-1][2], 'hist': hist, 'sec': round(time.time() - t0, 1)}

if __name__ == '__main__':
    cfgs = json.load(open(os.path.join(ROOT, 'sweep.json')))
    t = time.time(); load(); print('data', round(time.time() - t, 1), 's', flush=True)
    torch.multiprocessing.set_start_method('spawn')
    res = []
    with ProcessPoolExecutor(int(os.environ.get('WORKERS', 8))) as ex:
        for r in ex.map(run, cfgs):
            print(json.dumps(r), flush=True); res.append(r)
            json.dump(res, open(os.path.join(OUT, 'sweep-results.json'), 'w'))
    print('total', round(time.time() - t, 1), 's')
