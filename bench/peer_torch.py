"""PyTorch peer of the MwT training step, for bench/peer.ts.

Builds the same network as our tfjs forward pass from the Architecture JSON that bench/peer.ts
writes (conv 3x3 'same' no bias -> BN -> [* mask] -> ReLU, 2x2 max pools, flatten, dense), with the
same mask generator (GAP -> Linear no bias -> ReLU -> Linear -> tanh -> ReLU), the same MwT
cohesion/coupling losses on cosine similarities, the same live Jaccard metrics, and SGD with
Nesterov momentum. Prints one JSON object: ms per step by variant.

    /usr/bin/python3 bench/peer_torch.py --arch arch.json --batch 128 [--threads 2]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gate_hidden(kernels):
    return kernels if kernels < 128 else kernels // 2


class MaskedConv(nn.Module):
    def __init__(self, cin, cout, k, stride, masked):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.masked = masked
        if masked:
            hidden = gate_hidden(cout)
            self.w1 = nn.Linear(cin, hidden, bias=False)
            self.w2 = nn.Linear(hidden, cout)
            nn.init.ones_(self.w2.bias)

    def forward(self, x, masks):
        y = self.bn(self.conv(x))
        if not self.masked:
            return y
        m = F.relu(torch.tanh(self.w2(F.relu(self.w1(x.mean((2, 3)))))))
        masks.append(m)
        return y * m[:, :, None, None]


class Net(nn.Module):
    def __init__(self, arch):
        super().__init__()
        h, w, c = arch["inputShape"]
        self.steps = []
        layers = nn.ModuleList()
        for block in arch["blocks"]:
            kind = block["type"]
            if kind == "conv":
                layers.append(MaskedConv(c, block["filters"], block["kernelSize"], block["stride"], block["masked"]))
                c = block["filters"]
                self.steps.append(("conv", len(layers) - 1))
            elif kind == "maxPool":
                h, w = h // block["size"], w // block["size"]
                self.steps.append(("pool", block["size"]))
            elif kind == "flatten":
                c = c * h * w
                self.steps.append(("flatten", None))
            elif kind == "dense":
                layers.append(nn.Linear(c, block["units"]))
                c = block["units"]
                self.steps.append(("dense_relu" if block["relu"] else "dense", len(layers) - 1))
            else:
                raise ValueError(f"peer_torch: block type {kind} is not supported")
        self.layers = layers

    def forward(self, x):
        masks = []
        for kind, arg in self.steps:
            if kind == "conv":
                x = F.relu(self.layers[arg](x, masks))
            elif kind == "pool":
                x = F.max_pool2d(x, arg)
            elif kind == "flatten":
                x = x.flatten(1)
            else:
                x = self.layers[arg](x)
                if kind == "dense_relu":
                    x = F.relu(x)
        return x, masks


def pair_weights(labels):
    same = (labels[:, None] == labels[None, :]).float()
    upper = torch.triu(torch.ones_like(same), diagonal=1)
    pos, neg = same * upper, (1 - same) * upper
    return pos / pos.sum().clamp(min=1), neg / neg.sum().clamp(min=1), pos.sum() > 0, neg.sum() > 0


def mwt_losses(masks, weights):
    pos, neg, has_pos, has_neg = weights
    coh, coup = [], []
    for m in masks:
        n = m / torch.sqrt((m * m).sum(1, keepdim=True) + 1e-12)
        s = n @ n.t()
        coh.append(1 - (s * pos).sum() if has_pos else s.new_zeros(()))
        coup.append((s * neg).sum() if has_neg else s.new_zeros(()))
    return torch.stack(coh).mean(), torch.stack(coup).mean()


@torch.no_grad()
def live_metrics(masks, weights):
    pos, neg, _, _ = weights
    out = []
    for m in masks:
        on = (m > 0).float()
        inter = on @ on.t()
        sizes = on.sum(1, keepdim=True)
        union = sizes + sizes.t() - inter
        jac = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
        out.append(torch.stack([on.mean(), (jac * pos).sum(), (jac * neg).sum()]))
    return torch.stack(out).mean(0)


def bench(arch, batch, modular, warmup, min_steps, min_seconds):
    torch.manual_seed(0)
    net = Net(arch)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    h, w, c = arch["inputShape"]
    x = torch.randn(batch, c, h, w)
    y = torch.arange(batch) % arch["outputs"]
    weights = pair_weights(y)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, masks = net(x)
        ce = F.cross_entropy(logits, y)
        loss = ce
        if modular:
            coh, coup = mwt_losses(masks, weights)
            loss = ce + 0.5 * coh + 1.5 * coup
            live_metrics(masks, weights)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    steps = 0
    while steps < min_steps or time.perf_counter() - start < min_seconds:
        step()
        steps += 1
    return (time.perf_counter() - start) * 1000 / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch-modular", required=True)
    parser.add_argument("--arch-standard", required=True)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-steps", type=int, default=20)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch}
    for name, path, modular in (("modular", args.arch_modular, True), ("standard", args.arch_standard, False)):
        with open(path) as f:
            arch = json.load(f)
        result[name] = bench(arch, args.batch, modular, 3, args.min_steps, args.min_seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
