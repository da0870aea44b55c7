"""PyTorch peer of the MwT training step, for bench/ratios.ts (CPU, interleaved with ours) and
scripts/gpu-check.sh (any torch device, CUDA there).

Builds the network from the Architecture JSON that `buildArchitecture` writes, so ours and the peer
share one description: conv 3x3 'same' -> [BN] -> [* mask] -> ReLU, residual blocks (masked convs,
1x1 projection shortcut, add, ReLU), 2x2 max pools, global average pool, flatten, dropout + dense.
The mask generator (GAP -> Linear no bias -> ReLU -> Linear -> tanh -> ReLU), the MwT cohesion and
coupling losses on cosine similarities, the live Jaccard metrics and SGD with Nesterov momentum are
the same maths as ours. A block field this file does not know makes it fail rather than time a
different network.

    /usr/bin/python3 bench/peer_torch.py --arch-modular m.json --arch-standard s.json --batch 128 [--device cuda]
    /usr/bin/python3 bench/peer_torch.py --serve   # JSON lines on stdin/stdout (bench/ratios.ts)
"""
import argparse
import ctypes
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Fields of each block type that this peer builds; anything else is refused (see module docstring).
# `heInit` only chooses the initial weights' scale (He init's fan-in over the taps a small map can
# see): it changes no shape and no step's work, so the peer keeps torch's own initialisation.
KNOWN_FIELDS = {
    "conv": {"type", "name", "filters", "kernelSize", "stride", "masked", "batchNorm", "heInit"},
    "residual": {"type", "name", "filters", "innerFilters", "stride", "masked", "projection", "activation", "batchNorm"},
    "maxPool": {"type", "name", "size"},
    "flatten": {"type", "name"},
    "globalAvgPool": {"type", "name"},
    "dense": {"type", "name", "units", "relu", "dropout"},
}


def gate_hidden(kernels):
    return kernels if kernels < 128 else kernels // 2


def check_fields(block):
    known = KNOWN_FIELDS.get(block["type"])
    if known is None:
        raise ValueError(f"peer_torch: block type {block['type']} is not supported")
    unknown = set(block) - known
    if unknown:
        raise ValueError(f"peer_torch: {block['name']} has fields this peer does not build: {sorted(unknown)}")


class MaskedConv(nn.Module):
    """out = [BN](conv(x)) [* m]; the caller applies the activation."""

    def __init__(self, cin, cout, k, stride, masked, bias=False, batch_norm=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=bias)
        self.bn = nn.BatchNorm2d(cout) if batch_norm else None
        self.masked = masked
        if masked:
            hidden = gate_hidden(cout)
            self.w1 = nn.Linear(cin, hidden, bias=False)
            self.w2 = nn.Linear(hidden, cout)
            nn.init.ones_(self.w2.bias)

    def forward(self, x, masks):
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(y)
        if not self.masked:
            return y
        m = F.relu(torch.tanh(self.w2(F.relu(self.w1(x.mean((2, 3)))))))
        masks.append(m)
        return y * m[:, :, None, None]


class Residual(nn.Module):
    """As the catalog's ResidualBlock: `after-add` (ResNet's BasicBlock, a projection shortcut masked
    like the convs) relu(conv2(relu(conv1(x))) + shortcut(x)); `before-add` (CNNSplitter's ResCNN)
    relu(conv2(relu(conv1(x)))) + x, no ReLU after the add. Convs without BN have a bias."""

    def __init__(self, cin, block):
        super().__init__()
        masked, stride = block["masked"], block["stride"]
        bn = block.get("batchNorm", True)
        self.conv1 = MaskedConv(cin, block["innerFilters"], 3, stride, masked, not bn, bn)
        self.conv2 = MaskedConv(block["innerFilters"], block["filters"], 3, 1, masked, not bn, bn)
        self.shortcut = MaskedConv(cin, block["filters"], 1, stride, masked, not bn, bn) if block["projection"] else None
        self.before_add = block.get("activation", "after-add") == "before-add"

    def forward(self, x, masks):
        branch = self.conv2(F.relu(self.conv1(x, masks)), masks)
        shortcut = self.shortcut(x, masks) if self.shortcut is not None else x
        return F.relu(branch) + shortcut if self.before_add else F.relu(branch + shortcut)


class Net(nn.Module):
    def __init__(self, arch):
        super().__init__()
        h, w, c = arch["inputShape"]
        self.steps = []
        layers = nn.ModuleList()
        for block in arch["blocks"]:
            check_fields(block)
            kind = block["type"]
            if kind == "conv":
                bn = block.get("batchNorm", True)  # a conv without BN has a bias (the catalog's ConvBlock)
                layers.append(MaskedConv(c, block["filters"], block["kernelSize"], block["stride"], block["masked"], not bn, bn))
                c = block["filters"]
                h, w = -(-h // block["stride"]), -(-w // block["stride"])
                self.steps.append(("conv", len(layers) - 1, 0.0))
            elif kind == "residual":
                layers.append(Residual(c, block))
                c = block["filters"]
                h, w = -(-h // block["stride"]), -(-w // block["stride"])
                self.steps.append(("residual", len(layers) - 1, 0.0))
            elif kind == "maxPool":
                h, w = h // block["size"], w // block["size"]
                self.steps.append(("pool", block["size"], 0.0))
            elif kind == "globalAvgPool":
                h, w = 1, 1
                self.steps.append(("gap", None, 0.0))
            elif kind == "flatten":
                c = c * h * w
                self.steps.append(("flatten", None, 0.0))
            elif kind == "dense":
                layers.append(nn.Linear(c, block["units"]))
                c = block["units"]
                self.steps.append(("dense_relu" if block["relu"] else "dense", len(layers) - 1, block["dropout"]))
        self.layers = layers

    def forward(self, x):
        masks = []
        for kind, arg, rate in self.steps:
            if kind == "conv":
                x = F.relu(self.layers[arg](x, masks))
            elif kind == "residual":
                x = self.layers[arg](x, masks)
            elif kind == "pool":
                x = F.max_pool2d(x, arg)
            elif kind == "gap":
                x = x.mean((2, 3))
            elif kind == "flatten":
                x = x.flatten(1)
            else:
                if rate > 0:  # the catalog's DenseBlock: dropout -> dense
                    x = F.dropout(x, rate, self.training)
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


def make_step(arch, batch, modular, device="cpu"):
    """One SGD step of the network on a fixed synthetic batch, as a closure. The step reads its loss
    back (one scalar), as our trainer reads its step's scalars."""
    torch.manual_seed(0)
    net = Net(arch).to(device)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    h, w, c = arch["inputShape"]
    x = torch.randn(batch, c, h, w, device=device)
    y = torch.arange(batch, device=device) % arch["outputs"]
    weights = pair_weights(y)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, masks = net(x)
        ce = F.cross_entropy(logits, y)
        loss = ce
        if modular and masks:
            coh, coup = mwt_losses(masks, weights)
            loss = ce + 0.5 * coh + 1.5 * coup
            live_metrics(masks, weights)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def time_steps(step, min_steps, min_seconds):
    start = time.perf_counter()
    steps = 0
    while steps < min_steps or time.perf_counter() - start < min_seconds:
        step()
        steps += 1
    return (time.perf_counter() - start) * 1000 / steps, steps


def bench(arch, batch, modular, device, warmup, min_steps, min_seconds):
    step = make_step(arch, batch, modular, device)
    started = time.perf_counter()
    step()
    first_ms = (time.perf_counter() - started) * 1000
    for _ in range(warmup - 1):
        step()
    ms, steps = time_steps(step, min_steps, min_seconds)
    return {"msPerStep": ms, "steps": steps, "firstStepMs": first_ms}


def blas_name():
    """The BLAS this process loaded (Debian's torch links whichever libblas.so.3 is selected), with
    OpenBLAS' kernel set (e.g. SkylakeX, Cooperlake; OPENBLAS_CORETYPE overrides its choice)."""
    with open("/proc/self/maps") as maps:
        loaded = sorted({line.split()[-1] for line in maps if "blas" in line and ".so" in line})
    for path in loaded:
        if "openblas" in path:
            try:
                corename = ctypes.CDLL(path).openblas_get_corename
                corename.restype = ctypes.c_char_p
                return f"openblas {corename().decode()}"
            except (OSError, AttributeError):
                return "openblas"
    for name in ("mkl", "blis", "atlas"):
        if any(name in path for path in loaded):
            return name
    return "reference" if loaded else "unknown"


def serve():
    """JSON lines: {"prepare": arch, "batch", "modular", "warmup"} -> {"ready"}; {"time": minMs} -> {"ms", "steps"};
    {"prepare": null} frees the network."""
    step = None
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_name(), "mkldnn": torch.backends.mkldnn.is_available()}
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "prepare" in request:
            step = None
            if request["prepare"] is None:
                print(json.dumps({"freed": True}), flush=True)
                continue
            step = make_step(request["prepare"], request["batch"], request["modular"])
            for _ in range(request.get("warmup", 2)):
                step()
            print(json.dumps({"ready": True}), flush=True)
        elif "time" in request:
            ms, steps = time_steps(step, 1, request["time"] / 1000)
            print(json.dumps({"ms": ms, "steps": steps}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--arch-modular")
    parser.add_argument("--arch-standard")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=20)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Denormals flushed to zero, as our kernels do (packages/native/src/denormals.h): otherwise a
    # step slows down several-fold once gradients shrink into that range, late in a run or after
    # many steps on one batch, as the bench takes. Set before OpenMP starts its threads, which
    # inherit the mode of the thread that creates them.
    torch.set_flush_denormal(True)
    if args.serve:
        serve()
        return
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
