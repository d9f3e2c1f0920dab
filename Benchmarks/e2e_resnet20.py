"""End to end, batch 1: LowBit's trained float ResNet-20 (Fashion-MNIST) in PyTorch and ONNX Runtime.

1. Reads the .lowbit file directly (docs/FORMAT.md, ".lowbit v1"; checksums verified): the `spec`
   (architecture), the `metadata` (input normalization) and the float32 tensors.
2. Builds the same network in PyTorch from the spec, layer by layer, with LowBit's semantics
   (Sources/LowBitNN, Sources/LowBitIO/ConvGeometry.swift):
   - conv2d weights are stored [out, kh, kw, in] (OHWI, NHWC activations); PyTorch wants
     [out, in, kh, kw], so they are permuted (0, 3, 1, 2) and the network runs NCHW inside;
   - padding "same" is TensorFlow's: pad_total = max((out - 1) * stride + k - in, 0), with
     pad_total // 2 before and the rest after. For the stride-2 3x3 convolutions on even sizes
     that is 0 before, 1 after, which PyTorch's symmetric padding=1 would get wrong, so
     asymmetric padding is an explicit pad;
   - batchNorm: gamma, beta, runningMean, runningVariance, eps = spec epsilon or 1e-5 (the
     BatchNorm default), eval mode; residual: body(x) + shortcut(x) (empty shortcut = identity);
     globalAvgPool: mean over H and W; dense: y = x W^T + b with W stored [out, in].
   The model takes what `lowbit run` takes: raw NHWC pixels in [0, 1] ([N, 28, 28, 1]) and
   normalizes them with the stored mean/std first.
3. Checks the test-set accuracy (Fashion-MNIST IDX files) against the accuracy stored in the model
   metadata, exports to ONNX (opset 17), checks ONNX Runtime's accuracy too, then times batch-1
   inference: PyTorch (eval, inference_mode, 1 and 2 threads) and ONNX Runtime (ORT_ENABLE_ALL,
   1 and 2 intra-op threads).
"""

import gzip
import json
import os
import struct
import zlib

import numpy as np

from peer_common import Recorder, log, machine_info, parse_args, time_call

DTYPES = {"f32": "<f4", "f16": "<f2", "i8": "i1", "u8": "u1", "i16": "<i2", "i32": "<i4", "u32": "<u4", "u64": "<u8"}


def read_lowbit(path):
    """(spec, metadata, {name: array}) of a .lowbit v1 file, with header and tensor CRC-32 checks."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89LOWBIT\n":
        raise ValueError(f"{path}: not a .lowbit file")
    major, _minor, flags, header_length, checksum = struct.unpack_from("<HHIQI", data, 8)
    if major != 1 or flags & 0xFFFF:
        raise ValueError(f"{path}: format v{major} (flags {flags:#x}); this reader knows v1")
    header_bytes = data[32:32 + header_length]
    if zlib.crc32(data[:24] + header_bytes) != checksum:
        raise ValueError(f"{path}: header checksum mismatch")
    header = json.loads(header_bytes)
    start = (32 + header_length + 63) // 64 * 64
    tensors = {}
    for t in header["tensors"]:
        begin = start + t["offset"]
        raw = data[begin:begin + t["byteCount"]]
        if len(raw) != t["byteCount"] or zlib.crc32(raw) != t["crc32"]:
            raise ValueError(f"{path}: tensor {t['name']} is truncated or damaged")
        tensors[t["name"]] = np.frombuffer(raw, DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    return header.get("spec"), header.get("metadata", {}), tensors


def read_idx(path):
    """An IDX file (gzipped or not) as a NumPy array; uint8 data only (MNIST-style files)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, rank = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    shape = struct.unpack_from(f">{rank}I", data, 4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(shape)


def same_padding(size, kernel, stride):
    """LowBit's (= TensorFlow's) 'same' geometry: (output size, pad before, pad after)."""
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def build_torch_model(spec, metadata, tensors):
    """nn.Module taking raw NHWC input, equivalent to LowBit's float model (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def param(name):
        return torch.from_numpy(np.ascontiguousarray(tensors[name], dtype=np.float32))

    class Conv(nn.Module):
        """Convolution with LowBit's padding: symmetric padding inside the conv, otherwise an explicit pad."""

        def __init__(self, layer, height, width):
            super().__init__()
            k, s = layer["kernelSize"], layer.get("stride", 1)
            if layer.get("padding", "same") == "same":
                out_h, top, bottom = same_padding(height, k, s)
                out_w, left, right = same_padding(width, k, s)
            else:
                out_h, out_w, top, bottom, left, right = (height - k) // s + 1, (width - k) // s + 1, 0, 0, 0, 0
            symmetric = top == bottom and left == right
            self.pad = None if symmetric else (left, right, top, bottom)
            self.conv = nn.Conv2d(layer["inChannels"], layer["outChannels"], k, stride=s,
                                  padding=(top, left) if symmetric else 0, bias=layer.get("bias", True))
            self.conv.weight.data = param(layer["name"] + ".weight").permute(0, 3, 1, 2).contiguous()
            if layer.get("bias", True):
                self.conv.bias.data = param(layer["name"] + ".bias")
            self.out_size = (out_h, out_w)

        def forward(self, x):
            return self.conv(F.pad(x, self.pad) if self.pad else x)

    class Residual(nn.Module):
        def __init__(self, body, shortcut):
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    class GlobalAvgPool(nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    class Flatten(nn.Module):
        """LowBit flattens NHWC in row-major order (H, W, C); the network runs NCHW inside."""

        def forward(self, x):
            return (x.permute(0, 2, 3, 1) if x.dim() == 4 else x).reshape(x.shape[0], -1)

    def build(layers, shape):
        """nn.Sequential for a layer list; `shape` is (H, W, C) or (features,); returns (module, shape)."""
        modules = []
        for layer in layers:
            kind = layer["kind"]
            if kind == "conv2d":
                conv = Conv(layer, shape[0], shape[1])
                modules.append(conv)
                shape = (*conv.out_size, layer["outChannels"])
            elif kind == "batchNorm":
                bn = (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(layer["channels"], eps=layer.get("epsilon", 1e-5))
                bn.weight.data, bn.bias.data = param(layer["name"] + ".gamma"), param(layer["name"] + ".beta")
                bn.running_mean.data = param(layer["name"] + ".runningMean")
                bn.running_var.data = param(layer["name"] + ".runningVariance")
                modules.append(bn)
            elif kind == "relu":
                modules.append(nn.ReLU())
            elif kind == "hardTanh":
                modules.append(nn.Hardtanh())
            elif kind == "residual":
                body, out_shape = build(layer["body"], shape)
                shortcut, short_shape = build(layer.get("shortcut", []), shape)
                if out_shape != short_shape:
                    raise ValueError(f"{layer['name']}: body {out_shape} vs shortcut {short_shape}")
                modules.append(Residual(body, shortcut))
                shape = out_shape
            elif kind == "globalAvgPool":
                modules.append(GlobalAvgPool())
                shape = (shape[2],)
            elif kind == "dense":
                fc = nn.Linear(layer["inFeatures"], layer["outFeatures"], bias=layer.get("bias", True))
                fc.weight.data = param(layer["name"] + ".weight")
                if layer.get("bias", True):
                    fc.bias.data = param(layer["name"] + ".bias")
                modules.append(fc)
                shape = (layer["outFeatures"],)
            elif kind == "dropout":
                continue  # identity at inference
            elif kind == "flatten":
                modules.append(Flatten())
                shape = (int(np.prod(shape)),)
            else:  # pooling is not read here: ResNet-20 and the MLPs do not use it
                raise ValueError(f"layer kind {kind} ({layer['name']}) is not supported by this reader")
        return nn.Sequential(*modules), shape

    class LowBitNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, _ = build(spec["layers"], tuple(spec["inputShape"]))
            norm = metadata.get("normalization", {"mean": [0.0], "std": [1.0]})
            self.register_buffer("mean", torch.tensor(norm["mean"], dtype=torch.float32))
            self.register_buffer("std", torch.tensor(norm["std"], dtype=torch.float32))

        def forward(self, x):  # x: raw NHWC [N, H, W, C]
            x = (x - self.mean) / self.std  # per channel, over the last axis, as LowBit's loader
            return self.body(x.permute(0, 3, 1, 2))

    return LowBitNet().eval()


def main():
    here = os.path.dirname(os.path.abspath(__file__))

    def extra(parser):
        parser.add_argument("--model", default=os.environ.get("LOWBIT_RESNET20", "experiments/resnet20-fmnist.lowbit"))
        parser.add_argument("--data", default=os.environ.get("FASHION_MNIST", "../shared/datasets/fashion-mnist"))
        parser.add_argument("--onnx", default=os.path.join(here, "results", "resnet20-fmnist.onnx"))
        parser.add_argument("--name", default="resnet20-fmnist float", help="the model's label in the records")

    args = parse_args(__doc__.splitlines()[0], extra)
    import onnx
    import onnxruntime as ort
    import torch

    versions = {"torch": torch.__version__, "ort": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__}
    rec = Recorder(args.out, {"versions": versions, "machine": machine_info()})

    spec, metadata, tensors = read_lowbit(args.model)
    model = build_torch_model(spec, metadata, tensors)
    parameters = sum(p.numel() for p in model.parameters())  # trainable: conv/fc weights, BN gamma/beta
    lowbit_accuracy = metadata.get("metrics", {}).get("accuracy")

    images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"))
    if args.quick:  # a subset: the accuracy is then only a smoke check
        images, labels = images[:1000], labels[:1000]
    x_all = (images.astype(np.float32) / 255.0)[..., None]  # NHWC, [0, 1] as LowBit's IDX loader

    torch.set_num_threads(2)
    with torch.inference_mode():
        logits = torch.cat([model(torch.from_numpy(x_all[i:i + 500])) for i in range(0, len(x_all), 500)]).numpy()
    torch_accuracy = float(np.mean(logits.argmax(1) == labels))
    log(f"pytorch accuracy {torch_accuracy:.4f} on {len(labels)} test images (LowBit metadata: {lowbit_accuracy})")

    common = {"model": args.name, "batch": 1, "test_images": len(labels),
              "lowbit_accuracy": lowbit_accuracy, "parameters": parameters,
              "lowbit_file_bytes": os.path.getsize(args.model)}
    x1 = x_all[:1].copy()  # one test image, raw NHWC

    # PyTorch first, before any ONNX Runtime thread pool exists in this process
    x1_torch = torch.from_numpy(x1)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.inference_mode():
            timing = time_call(lambda: model(x1_torch), args.quick)
        rec.emit({"peer": "pytorch", **common, "threads": threads, "ms_best": timing["ms_best"],
                  "ms_median": timing["ms_median"], "accuracy": torch_accuracy,
                  "samples": timing["samples"], "calls_per_sample": timing["calls_per_sample"]})

    os.makedirs(os.path.dirname(os.path.abspath(args.onnx)), exist_ok=True)
    # dynamo=False: the TorchScript exporter, which needs no onnxscript (not installed here).
    # BatchNorm is folded into the convolutions by the exporter's constant folding (eval mode).
    torch.onnx.export(model, (torch.from_numpy(x1),), args.onnx, dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(args.onnx))
    common["onnx_bytes"] = os.path.getsize(args.onnx)

    def ort_session(threads):
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])

    session = ort_session(2)
    ort_logits = np.concatenate([session.run(None, {"image": x_all[i:i + 500]})[0] for i in range(0, len(x_all), 500)])
    del session
    ort_accuracy = float(np.mean(ort_logits.argmax(1) == labels))
    max_logit_diff = float(np.max(np.abs(ort_logits - logits)))
    log(f"onnxruntime accuracy {ort_accuracy:.4f}, max |logit difference| vs PyTorch {max_logit_diff:.2e}")

    for threads in (1, 2):
        session = ort_session(threads)
        timing = time_call(lambda: session.run(None, {"image": x1}), args.quick)
        session = None  # release this thread pool before the next session starts its own
        rec.emit({"peer": "ort", **common, "threads": threads, "ms_best": timing["ms_best"],
                  "ms_median": timing["ms_median"], "accuracy": ort_accuracy,
                  "max_logit_diff_vs_pytorch": max_logit_diff,
                  "samples": timing["samples"], "calls_per_sample": timing["calls_per_sample"]})


if __name__ == "__main__":
    main()
