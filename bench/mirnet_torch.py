"""MIRNet in plain PyTorch eager, equivalent to core/src/model.cpp, for benchmarks and cross-checks.

Parameter names equal the C++ register_module names (and so the safetensors keys), e.g.
"rrgs.0.mrbs.1.dau1_0.conv1.weight", so load_safetensors() + load_state_dict() reads our weight files.
Never used at run time; only torch is needed (the safetensors reader below is pure Python).
"""
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def default_config(**changes):
    config = dict(channels=64, rrgs=3, mrbs=2, streams=3, sa_kernel=1, reduction=8,
                  keras_last_skff=False, keras_softmax_channels=False)
    config.update(changes)
    return config


def conv(cin, cout, kernel):
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=True)


def squeeze_channels(channels, config):
    return max(1, channels // config["reduction"])


def upsample2(x):
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class DownSample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.main1, self.main2, self.main3, self.skip = conv(c, c, 1), conv(c, c, 3), conv(c, 2 * c, 1), conv(c, 2 * c, 1)

    def forward(self, x):
        m = F.relu(self.main2(F.relu(self.main1(x))))
        return self.main3(F.max_pool2d(m, 2)) + self.skip(F.max_pool2d(x, 2))


class UpSample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.main1, self.main2, self.main3, self.skip = conv(c, c, 1), conv(c, c, 3), conv(c, c // 2, 1), conv(c, c // 2, 1)

    def forward(self, x):
        m = F.relu(self.main2(F.relu(self.main1(x))))
        return self.main3(upsample2(m)) + self.skip(upsample2(x))


class ChannelAttention(nn.Module):
    def __init__(self, c, config):
        super().__init__()
        self.squeeze = conv(c, squeeze_channels(c, config), 1)
        self.excite = conv(squeeze_channels(c, config), c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3), keepdim=True)))))


class SpatialAttention(nn.Module):
    def __init__(self, kernel):
        super().__init__()
        self.conv = conv(2, 1, kernel)

    def forward(self, x):
        maps = torch.cat([x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.conv(maps))


class DualAttention(nn.Module):
    def __init__(self, c, config):
        super().__init__()
        self.conv1, self.conv2, self.fuse = conv(c, c, 3), conv(c, c, 3), conv(2 * c, c, 1)
        self.ca, self.sa = ChannelAttention(c, config), SpatialAttention(config["sa_kernel"])

    def forward(self, x):
        f = self.conv2(F.relu(self.conv1(x)))
        return x + self.fuse(torch.cat([self.ca(f), self.sa(f)], 1))


class SKFF(nn.Module):
    def __init__(self, c, inputs, config):
        super().__init__()
        self.squeeze = conv(c, squeeze_channels(c, config), 1)
        self.select = nn.ModuleList([conv(squeeze_channels(c, config), c, 1) for _ in range(inputs)])
        self.softmax_over_channels = config["keras_softmax_channels"]

    def forward(self, xs):
        z = F.relu(self.squeeze(sum(xs).mean((2, 3), keepdim=True)))
        scores = [s(z) for s in self.select]
        if self.softmax_over_channels:
            weights = [torch.softmax(s, 1) for s in scores]
        else:
            weights = torch.softmax(torch.stack(scores, 0), 0).unbind(0)
        return sum(x * w for x, w in zip(xs, weights))


class Resample(nn.Module):
    def __init__(self, c, frm, to):
        super().__init__()
        steps = [DownSample(c << s) for s in range(frm, to)] + [UpSample(c << s) for s in range(frm, to, -1)]
        self.steps = nn.Sequential(*steps)

    def forward(self, x):
        return self.steps(x)


class MRB(nn.Module):
    def __init__(self, config):
        super().__init__()
        S, C = config["streams"], config["channels"]
        self.S = S
        self.final_inputs = [S - 1 if (config["keras_last_skff"] and S > 2 and k == 1) else k for k in range(S)]
        for i in range(S - 1):
            self.add_module(f"down{i}", DownSample(C << i))
        for i in range(S):
            self.add_module(f"dau1_{i}", DualAttention(C << i, config))
            if i not in self.final_inputs:
                continue
            for j in range(S):
                if j != i:
                    self.add_module(f"x{j}to{i}", Resample(C, j, i))
            self.add_module(f"skff{i}", SKFF(C << i, S, config))
            self.add_module(f"dau2_{i}", DualAttention(C << i, config))
            if i > 0:
                self.add_module(f"up{i}", Resample(C, i, 0))
        self.final_skff = SKFF(C, S, config)
        self.conv = conv(C, C, 3)

    def forward(self, x):
        S, m = self.S, self._modules
        level = [x]
        for i in range(S - 1):
            level.append(m[f"down{i}"](level[i]))
        first = [m[f"dau1_{i}"](level[i]) for i in range(S)]
        second = [None] * S
        for i in range(S):
            if f"skff{i}" not in m:
                continue
            inputs = [first[j] if j == i else m[f"x{j}to{i}"](first[j]) for j in range(S)]
            second[i] = m[f"dau2_{i}"](m[f"skff{i}"](inputs))
            if i > 0:
                second[i] = m[f"up{i}"](second[i])
        return x + self.conv(self.final_skff([second[k] for k in self.final_inputs]))


class RRG(nn.Module):
    def __init__(self, config):
        super().__init__()
        C = config["channels"]
        self.conv1, self.conv2 = conv(C, C, 3), conv(C, C, 3)
        self.mrbs = nn.Sequential(*[MRB(config) for _ in range(config["mrbs"])])

    def forward(self, x):
        return x + self.conv2(self.mrbs(self.conv1(x)))


class GlobalBranch(nn.Module):
    """Per image a gain, a gamma and a 3x3 colour matrix from a 32x32 thumbnail (model.h, GlobalBranch)."""

    def __init__(self, g):
        super().__init__()
        self.conv1 = nn.Conv2d(3, g, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(g, 2 * g, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(2 * g, 2 * g, 3, stride=2, padding=1)
        self.fc, self.head = conv(2 * g, 2 * g, 1), conv(2 * g, 11, 1)

    def forward(self, x):
        t = F.adaptive_avg_pool2d(x.float(), (32, 32)).to(self.conv1.weight.dtype)
        t = F.relu(self.conv3(F.relu(self.conv2(F.relu(self.conv1(t))))))
        return self.head(F.relu(self.fc(t.mean((2, 3), keepdim=True)))).flatten(1).float()

    @staticmethod
    def apply(y, p):
        n = y.shape[0]
        gain, gamma = p[:, 0].exp().view(n, 1, 1, 1), p[:, 1].exp().view(n, 1, 1, 1)
        matrix = torch.eye(3, dtype=p.dtype, device=p.device) + p[:, 2:].view(n, 3, 3)
        z = y.float().clamp(1e-3, 1.0).pow(gamma) * gain
        return torch.einsum("nij,njhw->nihw", matrix, z).to(y.dtype)


class MIRNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        C = config["channels"]
        self.conv_in = conv(3, C, 3)
        self.rrgs = nn.Sequential(*[RRG(config) for _ in range(config["rrgs"])])
        self.conv_out = conv(C, 3, 3)
        if config.get("global", 0) > 0:
            self.add_module("global", GlobalBranch(config["global"]))

    def forward(self, x):
        branch = getattr(self, "global", None)
        params = branch(x) if branch is not None else None
        H, W = x.shape[2], x.shape[3]
        m = 1 << (self.config["streams"] - 1)
        ph, pw = (m - H % m) % m, (m - W % m) % m
        inp = x
        if ph or pw:
            # CPU padding has no bf16 kernel (torch 1.13): pad the 3 channels in fp32, as the C++ model does.
            widen = x.device.type == "cpu" and x.dtype != torch.float32
            inp = F.pad(x.float() if widen else x, (0, pw, 0, ph), mode="reflect" if (ph < H and pw < W) else "replicate")
            inp = inp.to(x.dtype)
        y = (self.conv_out(self.rrgs(self.conv_in(inp))) + inp)[:, :, :H, :W]
        return GlobalBranch.apply(y, params) if params is not None else y


def load_safetensors(path):
    """Returns (tensors, metadata) of a safetensors file (F32 / F16 only), pure Python."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "F16": torch.float16}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]) if raw else torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).float()
    return tensors, metadata


def load_model(path):
    """Builds MIRNet from a weight file's config metadata and loads its tensors (strict names)."""
    tensors, metadata = load_safetensors(path)
    config = default_config(**json.loads(metadata["config"]))
    model = MIRNet(config)
    model.load_state_dict(tensors, strict=True)
    return model.eval()
