"""Larq Compute Engine (LCE) binary 3x3 convolution, timed through LCE's own TFLite interpreter.

One Keras model per shape, made of a single larq QuantConv2D (ste_sign on input and kernel,
weight_clip constraint, 3x3, stride 1, padding "same", no bias), converted with
larq_compute_engine.convert_keras_model to a TFLite flatbuffer with LCE custom ops
(LceQuantize: float -> packed bits, LceBconv2d: packed bits -> float). That is the same work as
LowBit's "binary conv, float in/out" row of `lowbit bench kernels` (sign packing, binary GEMM,
float output).

LCE 0.16 has three kernels for LceBconv2d, picked when the interpreter is built
(larq_compute_engine/tflite/kernels/lce_ops_register.h, RegisterLCECustomOps):
  - use_indirect_bgemm=True: "optimized indirect BGEMM" (XNNPack-style indirection buffer). On x86
    the only micro-kernel is the portable C++ Kernel4x2Portable (the assembly ones are aarch64-only,
    core/indirect_bgemm/select_kernel.h), and Kernel::Dispatch runs it on one thread ("TODO:
    implement multithreading here", core/indirect_bgemm/kernel.h), so num_threads does not help it.
  - default (both flags False): "optimized BGEMM", im2col + ruy; on x86 ruy runs LCE's
    kStandardCpp BGemmKernel (portable C++, core/bgemm/kernels.h), multithreaded by ruy.
  - use_reference_bconv=True: the for-loop reference kernel (not timed here).
We time the indirect path with pad_values=1 (what LCE is built for: padding with +1 needs no
correction) and pad_values=0 (zero padding, the same semantics as LowBit's binary convolution; LCE
then adds a zero-padding correction pass, which it supports for float output without a fused
activation), and the default BGEMM path with pad_values=1 (not in --quick).

Timing: the interpreter wrapper's predict([x]) = copy the input in, Invoke(), copy the output out,
one pybind call. `io_floor_ms` is the same call on a one-ReLU model with the same input and output
sizes, an upper bound on what that wrapper adds to `ms_best`/`ms_median`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter

import numpy as np

from peer_common import Recorder, log, machine_info, parse_args, time_call

SHAPES = [  # (in channels, out channels, height/width, batch)
    (64, 64, 16, 1),
    (64, 64, 16, 16),
    (128, 128, 8, 1),
    (128, 128, 8, 16),
]
KERNEL_PATHS = {  # name -> Interpreter keyword arguments
    "indirect_bgemm": {"use_indirect_bgemm": True},
    "bgemm": {"use_indirect_bgemm": False},
}


def build_model(tf, lq, cin, cout, size, batch, pad_value):
    """Keras model: fixed-batch NHWC input -> one binary QuantConv2D."""
    inputs = tf.keras.Input(shape=(size, size, cin), batch_size=batch)
    outputs = lq.layers.QuantConv2D(
        cout, 3, strides=1, padding="same", pad_values=pad_value, use_bias=False,
        input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
    )(inputs)
    return tf.keras.Model(inputs, outputs)


def io_floor_model(tf, cin, size, batch):
    """Same input/output sizes as the convolution (cin == cout here), one cheap op (RELU)."""
    inputs = tf.keras.Input(shape=(size, size, cin), batch_size=batch)
    return tf.keras.Model(inputs, tf.keras.layers.ReLU()(inputs))


def custom_ops(flatbuffer):
    """Names of the LCE custom ops present in a converted flatbuffer (a byte search is enough)."""
    return [name for name in ("LceQuantize", "LceBconv2d", "LceDequantize") if name.encode() in flatbuffer]


def main():
    args = parse_args(__doc__.splitlines()[0])
    import larq as lq
    import larq_compute_engine as lce
    import tensorflow as tf
    from larq_compute_engine.tflite.python.interpreter import Interpreter
    from importlib.metadata import version

    tf.get_logger().setLevel("ERROR")  # the converter's "compiled metrics" warnings
    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    versions = {"tf": tf.__version__, "larq": version("larq"), "lce": version("larq-compute-engine"),
                "numpy": np.__version__}
    rec = Recorder(args.out, {"versions": versions, "machine": machine_info()})

    shapes = [s for s in SHAPES if s[3] == 1] if args.quick else SHAPES  # --quick: batch 1 only
    threads_list = [1, 2]
    for cin, cout, size, batch in shapes:
        shape_name = f"{cin}->{cout} 3x3 @{size}x{size} batch {batch}"
        ops = 2 * batch * size * size * cout * 9 * cin  # a 1-bit multiply-add counts as 2 ops, as in LowBit
        x = rng.standard_normal((batch, size, size, cin)).astype(np.float32)

        floor_fb = lce.convert_keras_model(io_floor_model(tf, cin, size, batch))
        floor = {}
        for threads in threads_list:
            wrapper = Interpreter(floor_fb, num_threads=threads).interpreter
            floor[threads] = time_call(lambda: wrapper.predict([x]), quick=True)["ms_best"]  # a rough bound is enough

        for pad_value in (1.0, 0.0):
            model = build_model(tf, lq, cin, cout, size, batch, pad_value)
            flatbuffer = lce.convert_keras_model(model)
            present = custom_ops(flatbuffer)
            if "LceBconv2d" not in present:
                raise SystemExit(f"conversion did not produce LceBconv2d for {shape_name} (ops: {present})")
            expected = model(x, training=False).numpy()  # Keras/larq reference (float math on +-1 values)
            for path, kwargs in KERNEL_PATHS.items():
                # the default BGEMM path only with pad_values=1 (its natural case), and not in --quick
                if path != "indirect_bgemm" and (args.quick or pad_value != 1.0):
                    continue
                for threads in threads_list:
                    try:
                        wrapper = Interpreter(flatbuffer, num_threads=threads, **kwargs).interpreter
                        got = wrapper.predict([x])[0]
                    except Exception as error:  # a kernel that refuses this configuration
                        log(f"lce {shape_name} pad {pad_value:g} {path} threads {threads}: failed: {error}")
                        rec.emit({"peer": "lce", "shape": shape_name, "threads": threads, "kernel": path,
                                  "indirect_bgemm": path == "indirect_bgemm", "pad_values": pad_value,
                                  "error": str(error)})
                        continue
                    max_error = float(np.max(np.abs(got - expected)))
                    timing = time_call(lambda: wrapper.predict([x]), args.quick)
                    rec.emit({
                        "peer": "lce", "shape": shape_name, "threads": threads,
                        "ms_best": timing["ms_best"], "ms_median": timing["ms_median"],
                        "gops": round(ops / (timing["ms_best"] * 1e-3) / 1e9, 1),
                        "indirect_bgemm": path == "indirect_bgemm", "kernel": path,
                        "pad_values": pad_value, "io_floor_ms": floor[threads],
                        "max_abs_error_vs_keras": max_error, "custom_ops": present,
                        "flatbuffer_bytes": len(flatbuffer),
                        "samples": timing["samples"], "calls_per_sample": timing["calls_per_sample"],
                    })


if __name__ == "__main__":
    main()
