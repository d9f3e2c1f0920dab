"""ONNX Runtime MatMulInteger (uint8 x int8 -> int32) and float MatMul at 1024^3, CPU provider.

Each graph has one node. The activation A is the graph input; the weight B is an initializer (a
constant, as in a deployed model, so ORT may pre-pack it at session creation, just as LowBit packs
its weights once). Variants:
  - MatMulInteger without zero points: A uint8 [1024, 1024], B int8 [1024, 1024] -> int32;
  - MatMulInteger with a_zero_point: the same plus a uint8 scalar initializer (128), computing
    (A - 128) B, which is what an asymmetric uint8 activation needs (LowBit folds the zero point
    into an int32 bias instead, docs/RUNTIME.md "Requantization");
  - MatMul float32 [1024, 1024] x [1024, 1024], the reference.
Sessions: ORT_ENABLE_ALL, sequential execution, intra_op_num_threads 1 and 2, inter_op 1.
Each result is checked against NumPy (float64 products, exact for these magnitudes); the integer
rows report whether ORT's result is exact on the full-range data timed ("exact", "mismatches",
"max_abs_error") and on A restricted to 7 bits, 0..127 ("exact_7bit_a"): without AVX-VNNI, ORT's
x86 u8 x s8 kernel adds each pair of u8*s8 products into int16 (vpmaddubsw), which saturates when
both products are large (|255 * -128 * 2| > 32767), so full-range inputs can give wrong sums; ORT's
quantization tools avoid this with 7-bit ranges (reduce_range). Timing does not depend on values.
Gop/s counts 2 * M * N * K operations.
"""

import numpy as np

from peer_common import Recorder, machine_info, parse_args, time_call

M = N = K = 1024


def build_graph(kind):
    """A one-node ONNX model: kind is "int8", "int8_zero_point" or "float"."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    if kind == "float":
        b = rng.standard_normal((K, N)).astype(np.float32)
        a_type, out_type, op = TensorProto.FLOAT, TensorProto.FLOAT, "MatMul"
    else:
        b = rng.integers(-128, 128, (K, N), dtype=np.int8)
        a_type, out_type, op = TensorProto.UINT8, TensorProto.INT32, "MatMulInteger"
    initializers = [numpy_helper.from_array(b, "B")]
    inputs = ["A", "B"]
    if kind == "int8_zero_point":
        initializers.append(numpy_helper.from_array(np.array(128, dtype=np.uint8), "a_zero_point"))
        inputs.append("a_zero_point")
    node = helper.make_node(op, inputs, ["Y"])
    graph = helper.make_graph(
        [node], f"matmul_{kind}",
        [helper.make_tensor_value_info("A", a_type, [M, K])],
        [helper.make_tensor_value_info("Y", out_type, [M, N])],
        initializer=initializers,
    )
    # opset 13 covers both ops; ir_version 8 keeps the file loadable by older runtimes too
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return model, b


def main():
    args = parse_args(__doc__.splitlines()[0])
    import onnx
    import onnxruntime as ort

    versions = {"ort": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__}
    rec = Recorder(args.out, {"versions": versions, "machine": machine_info()})
    rng = np.random.default_rng(2)
    a_u8 = rng.integers(0, 256, (M, K), dtype=np.uint8)
    a_u7 = rng.integers(0, 128, (M, K), dtype=np.uint8)  # 7-bit activations: no int16 saturation possible
    a_f32 = rng.standard_normal((M, K)).astype(np.float32)

    for kind in ("int8", "int8_zero_point", "float"):
        model, b = build_graph(kind)
        a = a_f32 if kind == "float" else a_u8
        zero_point = 128 if kind == "int8_zero_point" else 0
        expected = (a.astype(np.float64) - zero_point) @ b.astype(np.float64)
        for threads in (1, 2):
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
            got = session.run(None, {"A": a})[0]
            error = float(np.max(np.abs(got.astype(np.float64) - expected)))
            timing = time_call(lambda: session.run(None, {"A": a}), args.quick)
            op = {"int8": "MatMulInteger u8 x s8 -> s32",
                  "int8_zero_point": "MatMulInteger u8 x s8 -> s32, a_zero_point=128",
                  "float": "MatMul f32"}[kind]
            record = {
                "peer": "ort", "op": op, "shape": f"{M}x{N}x{K}", "threads": threads,
                "ms_best": timing["ms_best"], "ms_median": timing["ms_median"],
                "gops": round(2 * M * N * K / (timing["ms_best"] * 1e-3) / 1e9, 1),
                "max_abs_error": error,
                "samples": timing["samples"], "calls_per_sample": timing["calls_per_sample"],
            }
            if kind == "float":
                record["max_rel_error"] = error / float(np.max(np.abs(expected)))
            else:
                record["exact"] = error == 0.0
                record["mismatches"] = int(np.count_nonzero(got.astype(np.float64) != expected))
                got7 = session.run(None, {"A": a_u7})[0].astype(np.float64)
                record["exact_7bit_a"] = bool(np.array_equal(got7, (a_u7.astype(np.float64) - zero_point) @ b.astype(np.float64)))
            rec.emit(record)


if __name__ == "__main__":
    main()
