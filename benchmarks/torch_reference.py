"""The VGAN paper network in plain PyTorch: what a user would write instead of keras_vgan.

Run by hand with any Python that has ``torch`` (it is not a keras_vgan
dependency; a separate environment is fine)::

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python benchmarks/torch_reference.py --steps 5 --warmup 2
    .venv/bin/python benchmarks/train_throughput.py --steps 5 --warmup 2   # keras_vgan, same CPU

The network and step are the ones ``train_throughput.py`` measures for the
``vgan_paper`` preset: a two-stream generator (dense -> 3D transposed-conv
foreground + mask with batch norm and ReLU, 2D transposed-conv background;
widths 512-256-128-64; N(0, 0.02) init), a 3D-conv discriminator (widths
64-128-256-512, batch norm after the first block, leaky ReLU 0.2, one valid
conv head), clips of 32x64x64x3 at batch 8, the non-saturating loss with the
mask L1 prior (0.1), two Adam(2e-4, 0.5, 0.999), one D step then one G step,
and an EMA copy of the generator updated each step. This is the standard
PyTorch GAN loop (``zero_grad``, ``backward``, ``step``) in eager mode, with
the default ``torch`` threads (one per core). The FLOP count follows
``train_throughput.py``'s convention (conv / dense layers from their shapes,
multiply-add = 2, backward = 2x forward, step = 4G + 8D forward passes), so
the GFLOP/s of the two scripts compare directly.
"""

import argparse
import copy
import os
import statistics
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F


def _init(module):
    if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, latent=100, frames=32, size=64, channels=3, widths=(512, 256, 128, 64)):
        super().__init__()
        depth = len(widths)
        self.t0, self.s0, self.w0 = frames // 2**depth, size // 2**depth, widths[0]
        self.fg_project = nn.Linear(latent, self.t0 * self.s0 * self.s0 * widths[0], bias=False)
        self.fg_norm = nn.BatchNorm3d(widths[0], momentum=0.1)
        fg = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            fg += [nn.ConvTranspose3d(a, b, 4, 2, 1), nn.BatchNorm3d(b), nn.ReLU()]
        self.fg_blocks = nn.Sequential(*fg)
        self.fg_video = nn.ConvTranspose3d(widths[-1], channels, 4, 2, 1)
        self.fg_mask = nn.ConvTranspose3d(widths[-1], 1, 4, 2, 1)
        self.bg_project = nn.Linear(latent, self.s0 * self.s0 * widths[0], bias=False)
        self.bg_norm = nn.BatchNorm2d(widths[0])
        bg = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            bg += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU()]
        self.bg_blocks = nn.Sequential(*bg)
        self.bg_image = nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1)
        self.apply(_init)

    def forward(self, z):  # -> video [B, C, T, H, W], mask [B, 1, T, H, W]
        f = self.fg_project(z).view(-1, self.w0, self.t0, self.s0, self.s0)
        f = self.fg_blocks(F.relu(self.fg_norm(f)))
        foreground = torch.tanh(self.fg_video(f))
        mask = torch.sigmoid(self.fg_mask(f))
        b = self.bg_project(z).view(-1, self.w0, self.s0, self.s0)
        background = torch.tanh(self.bg_image(self.bg_blocks(F.relu(self.bg_norm(b)))))
        video = mask * foreground + (1 - mask) * background[:, :, None]
        return video, mask


class Discriminator(nn.Module):
    def __init__(self, frames=32, size=64, channels=3, widths=(64, 128, 256, 512)):
        super().__init__()
        layers, c = [], channels
        for i, w in enumerate(widths):
            layers.append(nn.Conv3d(c, w, 4, 2, 1))
            if i:
                layers.append(nn.BatchNorm3d(w))
            layers.append(nn.LeakyReLU(0.2))
            c = w
        depth = len(widths)
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Conv3d(c, 1, (frames // 2**depth, size // 2**depth, size // 2**depth))
        self.apply(_init)

    def forward(self, x):
        return self.head(self.blocks(x)).view(-1, 1)


def analytic_flops(model, example):
    """Forward FLOPs of conv / dense layers (train_throughput.py's convention)."""
    total = [0]

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Linear):
            total[0] += 2 * x.numel() // x.shape[-1] * module.in_features * module.out_features
            return
        k = module.weight[0, 0].numel()  # kernel volume
        c_in, c_out = module.in_channels, module.out_channels
        if isinstance(module, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
            positions = x.numel() // x.shape[1]  # input positions (batch included)
        else:
            positions = output.numel() // output.shape[1]
        total[0] += 2 * positions * k * c_in * c_out

    kinds = (nn.Linear, nn.Conv3d, nn.ConvTranspose3d, nn.ConvTranspose2d)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    with torch.no_grad():
        model(example)
    for h in handles:
        h.remove()
    return total[0]


def matmul_probe(n=2048):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b

    def probe():
        t0 = time.perf_counter()
        a @ b
        return 2.0 * n**3 / (time.perf_counter() - t0) / 1e9

    return probe


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--channels-last", action="store_true", help="torch.channels_last_3d memory")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    g, d = Generator(), Discriminator()
    g_ema = copy.deepcopy(g).requires_grad_(False)
    fmt = torch.channels_last_3d if args.channels_last else torch.contiguous_format
    for m in (*g.modules(), *d.modules()):  # the 5D weights only: the format is per rank
        if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
            m.to(memory_format=fmt)
    g_opt = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = (torch.rand(args.batch, 3, 32, 64, 64) * 2 - 1).contiguous(memory_format=fmt)
    g_fwd = analytic_flops(g, torch.randn(args.batch, 100))
    d_fwd = analytic_flops(d, real)
    step_flops = 4 * g_fwd + 8 * d_fwd

    def step():
        z = torch.randn(args.batch, 100)
        with torch.no_grad():
            fake, _ = g(z)
        d_opt.zero_grad(set_to_none=True)
        real_logits, fake_logits = d(real), d(fake)
        d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad(set_to_none=True)
        fake, mask = g(torch.randn(args.batch, 100))
        g_loss = F.softplus(-d(fake)).mean() + 0.1 * mask.abs().mean()
        g_loss.backward()
        g_opt.step()
        with torch.no_grad():
            for e, w in zip(g_ema.parameters(), g.parameters(), strict=True):
                e.lerp_(w, 1 - 0.999)
        return float(d_loss.detach()) + float(g_loss.detach())

    probe = matmul_probe()
    rates = [probe() for _ in range(10)]
    for _ in range(args.warmup):
        step()
    times, cpu = [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        rates.append(probe())
    s = statistics.median(times)
    mm = statistics.median(rates)
    cores = len(os.sched_getaffinity(0))
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpu capability "
          f"{torch.backends.cpu.get_cpu_capability()}, mkldnn {torch.backends.mkldnn.is_available()}, "
          f"memory format {'channels_last_3d' if args.channels_last else 'contiguous (NCDHW)'}")  # fmt: skip
    print("step times (s):", " ".join(f"{t:.2f}" for t in times))
    print(f"G forward {g_fwd / 1e9:.2f} GFLOP, D forward {d_fwd / 1e9:.2f} GFLOP per batch; "
          f"step {step_flops / 1e9:.2f} GFLOP")  # fmt: skip
    print(f"time per step {s:.3f} s (median of {args.steps}); clips/s {args.batch / s:.2f}; "
          f"achieved {step_flops / s / 1e9:.1f} GFLOP/s; matmul {mm:.1f} GFLOP/s; "
          f"ratio {step_flops / s / 1e9 / mm:.1%}; cpu share "
          f"{sum(cpu) / sum(times) / cores:.0%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
