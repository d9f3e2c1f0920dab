"""End to end, batch 1: LowBit's packed ResNet-20s against ONNX Runtime's float ResNet-20, interleaved.

This VM moves single medians by up to 40% from one minute to the next, so a ratio taken from two
separate runs can be off by that much. This script alternates the peers within each round: ONNX
Runtime on the float model (the ONNX file Benchmarks/e2e_resnet20.py exports), then
`lowbit bench PACKED --batch-sizes 1 --threads T --repeat R --json` for every packed model, and
reports, per model, the median over rounds of (ORT median / LowBit median) taken within the round,
and the ratio of the fastest runs seen over all rounds (the least disturbed run of each: on this
VM the most stable figure, since a slow phase only ever adds time). ONNX Runtime's times include
the per-call cost of session.run from Python; an Identity model's fastest run measures that floor
(~8 us here), and the last column subtracts it, which matters for models of tens of microseconds.

    .venv-peers/bin/python Benchmarks/e2e_interleaved.py --onnx Benchmarks/results/resnet20-fmnist.onnx \
        --threads 1 --rounds 5 /tmp/lowbit-e2e/r20-hybrid-block.packed.lowbit ...

Prints a Markdown table; --json prints one JSON object instead (per model: lowbit_us and
lowbit_min_us per round, ort_us and ort_min_us per round, ort_identity_min_us, ratio_median,
ratio_fastest_runs, ratio_fastest_runs_less_floor).
"""

import argparse
import json
import statistics
import subprocess
import time

import numpy as np
import onnxruntime as ort


def ort_times_us(session, x, seconds):
    """(median, fastest) per-call latency of session.run over about `seconds`, after a short warm-up."""
    for _ in range(20):
        session.run(None, {"image": x})
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 50:
        start = time.perf_counter()
        session.run(None, {"image": x})
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times), min(times)


def identity_session(options, shape):
    """An ONNX Runtime session of one Identity node on the input's shape: the per-call floor of
    session.run from Python (binding, argument conversion, output allocation), which the float model's
    times include too. It matters for models of a few tens of microseconds (an MLP), not for ResNet-20."""
    from onnx import TensorProto, helper
    value = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shape)) for n in ("image", "logits")]
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["logits"])], "identity", [value[0]], [value[1]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def lowbit_times_us(lowbit, model, threads, repeat, sample):
    """(median, fastest) of `lowbit bench MODEL --batch-sizes 1 --json [--input SAMPLE]`."""
    command = [lowbit, "bench", model, "--batch-sizes", "1", "--threads", str(threads), "--repeat", str(repeat), "--json"]
    out = json.loads(subprocess.run(command + (["--input", sample] if sample else []), check=True, capture_output=True,
                                    text=True).stdout)
    return out["latency_us"]["1"], out["latency_min_us"]["1"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="packed .lowbit models")
    parser.add_argument("--onnx", default="Benchmarks/results/resnet20-fmnist.onnx")
    parser.add_argument("--lowbit", default=".build/release/lowbit")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=500, help="lowbit bench --repeat")
    parser.add_argument("--ort-seconds", type=float, default=1.0)
    parser.add_argument("--input", help="one sample (.npy, [1, 28, 28, 1] float32) both peers run; default: uniform noise. "
                        "LowBit's int8 layers are faster on real images (few activations reach code 128)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    x = np.load(args.input).astype(np.float32)[:1] if args.input else np.random.default_rng(1).random((1, 28, 28, 1), dtype=np.float32)

    floor = identity_session(options, x.shape)

    ort_us, ort_min, lowbit_us, lowbit_min = [], [], {m: [] for m in args.models}, {m: [] for m in args.models}
    floor_min = []
    for _ in range(args.rounds):
        median, fastest = ort_times_us(session, x, args.ort_seconds)
        ort_us.append(median)
        ort_min.append(fastest)
        floor_min.append(ort_times_us(floor, x, args.ort_seconds / 4)[1])
        for m in args.models:
            median, fastest = lowbit_times_us(args.lowbit, m, args.threads, args.repeat, args.input)
            lowbit_us[m].append(median)
            lowbit_min[m].append(fastest)
    result = {"threads": args.threads, "rounds": args.rounds, "input": args.input or "uniform", "ort_us": ort_us, "ort_min_us": ort_min,
              "ort_identity_min_us": min(floor_min), "models": {}}
    for m in args.models:
        ratios = [o / l for o, l in zip(ort_us, lowbit_us[m])]
        result["models"][m] = {"lowbit_us": lowbit_us[m], "lowbit_min_us": lowbit_min[m],
                               "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                               "ratio_fastest_runs": min(ort_min) / min(lowbit_min[m]),
                               "ratio_fastest_runs_less_floor": (min(ort_min) - min(floor_min)) / min(lowbit_min[m])}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"ONNX Runtime float, {args.threads} thread(s): median per round "
          + ", ".join(f"{u:.0f}" for u in ort_us) + f" us; fastest run {min(ort_min):.0f} us; "
          + f"an Identity model's fastest run (the per-call floor from Python) {min(floor_min):.1f} us")
    print("| model | LowBit batch 1 (us): median of rounds / fastest run | ORT / LowBit per round (median, min-max) | ORT / LowBit, fastest runs "
          "| the same, ORT less the Identity floor |")
    print("|---|---|---|---|---|")
    for m, r in result["models"].items():
        print(f"| {m.split('/')[-1]} | {statistics.median(r['lowbit_us']):.0f} / {min(r['lowbit_min_us']):.0f} | "
              f"{r['ratio_median']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {r['ratio_fastest_runs']:.2f}x "
              f"| {r['ratio_fastest_runs_less_floor']:.2f}x |")


if __name__ == "__main__":
    main()
