"""PyTorch peer of the MwT training step on any torch device, for scripts/gpu-check.sh.

Builds the network that our forward pass (packages/core/src/model/forward.ts) computes from the
Architecture JSON that `gpu-check.mjs arch` writes: conv 3x3 'same' no bias -> BN -> [* mask] ->
ReLU; ResNet basic blocks relu(masked conv2(masked conv1(x)) + shortcut(x)) with a 1x1 conv + BN
projection shortcut; 2x2 max pools; flatten or global average pool; dropout -> dense [-> ReLU].
Same mask generator (GAP -> Linear no bias -> ReLU -> Linear -> tanh -> ReLU), the same MwT
cohesion/coupling losses and live Jaccard metrics, SGD with Nesterov momentum, and one scalar read
back per step, as our trainer does. (bench/peer_torch.py is the CPU bench's peer: plain VGG-style
stacks only, no device choice.) Prints one JSON object: ms per step by variant.

    python3 bench/peer_torch_gpu.py --arch-modular m.json --arch-standard s.json --device cuda
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
    """conv -> BN -> [* mask] -> [ReLU]; the mask generator reads the block's input."""

    def __init__(self, cin, cout, k, stride, masked, relu):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.masked, self.relu = masked, relu
        if masked:
            hidden = gate_hidden(cout)
            self.w1 = nn.Linear(cin, hidden, bias=False)
            self.w2 = nn.Linear(hidden, cout)
            nn.init.ones_(self.w2.bias)

    def forward(self, x, masks):
        y = self.bn(self.conv(x))
        if self.masked:
            m = F.relu(torch.tanh(self.w2(F.relu(self.w1(x.mean((2, 3)))))))
            masks.append(m)
            y = y * m[:, :, None, None]
        return F.relu(y) if self.relu else y


class Residual(nn.Module):
    def __init__(self, cin, block):
        super().__init__()
        cout, stride, masked = block["filters"], block["stride"], block["masked"]
        self.conv1 = MaskedConv(cin, block["innerFilters"], 3, stride, masked, True)
        self.conv2 = MaskedConv(block["innerFilters"], cout, 3, 1, masked, False)
        self.shortcut = MaskedConv(cin, cout, 1, stride, False, False) if block["projection"] else None

    def forward(self, x, masks):
        branch = self.conv2(self.conv1(x, masks), masks)
        return F.relu(branch + (self.shortcut(x, masks) if self.shortcut is not None else x))


class Dense(nn.Module):
    def __init__(self, cin, block):
        super().__init__()
        self.linear = nn.Linear(cin, block["units"])
        self.dropout = block.get("dropout", 0)
        self.relu = block["relu"]

    def forward(self, x, masks):
        if self.dropout > 0:
            x = F.dropout(x, self.dropout, self.training)
        x = self.linear(x)
        return F.relu(x) if self.relu else x


class Net(nn.Module):
    def __init__(self, arch):
        super().__init__()
        h, w, c = arch["inputShape"]
        steps = []
        for block in arch["blocks"]:
            kind = block["type"]
            if kind == "conv":
                steps.append(MaskedConv(c, block["filters"], block["kernelSize"], block["stride"], block["masked"], True))
                c = block["filters"]
            elif kind == "residual":
                steps.append(Residual(c, block))
                c = block["filters"]
            elif kind == "maxPool":
                steps.append(("pool", block["size"]))
                h, w = h // block["size"], w // block["size"]
            elif kind == "flatten":
                steps.append(("flatten", None))
                c = c * h * w
            elif kind == "globalAvgPool":
                steps.append(("gap", None))
            elif kind == "dense":
                steps.append(Dense(c, block))
                c = block["units"]
            else:
                raise ValueError(f"peer_torch_gpu: block type {kind} is not supported")
        self.modules_ = nn.ModuleList([s for s in steps if isinstance(s, nn.Module)])
        self.steps = steps

    def forward(self, x):
        masks = []
        for step in self.steps:
            if isinstance(step, nn.Module):
                x = step(x, masks)
            elif step[0] == "pool":
                x = F.max_pool2d(x, step[1])
            elif step[0] == "flatten":
                # Our tensors are NHWC: flatten in that order so the dense layer sees the same features.
                x = x.permute(0, 2, 3, 1).flatten(1)
            else:
                x = x.mean((2, 3))
        return x, masks


def pair_weights(labels):
    same = (labels[:, None] == labels[None, :]).float()
    upper = torch.triu(torch.ones_like(same), diagonal=1)
    pos, neg = same * upper, (1 - same) * upper
    return pos / pos.sum().clamp(min=1), neg / neg.sum().clamp(min=1)


def mwt_losses(masks, pos, neg):
    coh, coup = [], []
    for m in masks:
        n = m / torch.sqrt((m * m).sum(1, keepdim=True) + 1e-12)
        s = n @ n.t()
        coh.append(1 - (s * pos).sum())
        coup.append((s * neg).sum())
    return torch.stack(coh).mean(), torch.stack(coup).mean()


@torch.no_grad()
def live_metrics(masks, pos, neg):
    out = []
    for m in masks:
        on = (m > 0).float()
        inter = on @ on.t()
        sizes = on.sum(1, keepdim=True)
        union = sizes + sizes.t() - inter
        jac = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
        out.append(torch.stack([on.mean(), (jac * pos).sum(), (jac * neg).sum()]))
    return torch.stack(out).mean(0)


def bench(arch, batch, modular, device, warmup, min_steps, min_seconds):
    torch.manual_seed(0)
    net = Net(arch).to(device)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    h, w, c = arch["inputShape"]
    x = torch.randn(batch, c, h, w, device=device)
    y = torch.arange(batch, device=device) % arch["outputs"]
    pos, neg = pair_weights(y)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, masks = net(x)
        loss = F.cross_entropy(logits, y)
        if modular:
            coh, coup = mwt_losses(masks, pos, neg)
            loss = loss + 0.5 * coh + 1.5 * coup
            live = live_metrics(masks, pos, neg)
        loss.backward()
        opt.step()
        # One read back per step, as our trainer reads its step's scalars.
        return loss.item()

    started = time.perf_counter()
    step()
    first_ms = (time.perf_counter() - started) * 1000
    for _ in range(warmup - 1):
        step()
    started = time.perf_counter()
    steps = 0
    while steps < min_steps or time.perf_counter() - started < min_seconds:
        step()
        steps += 1
    return {"msPerStep": (time.perf_counter() - started) * 1000 / steps, "steps": steps, "firstStepMs": first_ms}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch-modular", required=True)
    parser.add_argument("--arch-standard", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    args = parser.parse_args()
    device = torch.device(args.device)
    result = {"torch": torch.__version__, "device": args.device, "batch": args.batch}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
        # cuDNN's autotuner picks the fastest conv algorithms, as a tuned PyTorch run would.
        torch.backends.cudnn.benchmark = True
    else:
        result["threads"] = torch.get_num_threads()
    for name, path, modular in (("modular", args.arch_modular, True), ("standard", args.arch_standard, False)):
        with open(path) as f:
            arch = json.load(f)
        result[name] = bench(arch, args.batch, modular, device, args.warmup, args.min_steps, args.min_seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
