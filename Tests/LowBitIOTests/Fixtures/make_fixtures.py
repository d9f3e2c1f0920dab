# Regenerates these fixtures (run from this folder): python3 make_fixtures.py, with numpy and
# safetensors installed in a throwaway virtual environment. The Swift tests never run it.
# NumPy and safetensors are the independent oracles for the LowBitIO readers.
import json, struct
import numpy as np
from safetensors.numpy import save_file

save_file({
    "weight": np.array([[1, -2, 3.5], [0.25, -0.0, 1e-3]], dtype="<f4"),
    "codes": np.array([-128, -1, 0, 127], dtype="i1"),
    "pixels": np.array([[0, 1], [254, 255]], dtype="u1"),
    "counts": np.array([-2147483648, 0, 2147483647], dtype="<i4"),
    "half": np.array([1, -2.5, 65504], dtype="<f2"),
}, "mixed.safetensors", metadata={"format": "np", "note": "fixture"})

save_file({
    "scalar": np.array(42.0, dtype="<f4"),
    "empty": np.zeros((0,), dtype="<f4"),
    "bias": np.array([0.5, -0.5], dtype="<f4"),
}, "scalar_empty.safetensors")

# NumPy has no bfloat16: this file is built by hand from the safetensors layout.
bits = [0x3F80, 0xC020, 0x3E20, 0x7F80]  # 1.0, -2.5, 0.15625, +inf
header = json.dumps({"x": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
header += b" " * ((8 - len(header) % 8) % 8)
with open("bf16.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + struct.pack("<4H", *bits))

np.save("f4_2x3.npy", np.array([[1, -2, 3.5], [0.25, -0.0, 1e-3]], dtype="<f4"))
np.save("i8_4.npy", np.array([-(2**40), -1, 0, 2**40 + 1], dtype="<i8"))
np.save("u1_3.npy", np.array([0, 128, 255], dtype="u1"))
np.save("f8_scalar.npy", np.array(3.25, dtype="<f8"))
np.save("f4_fortran_2x3.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
with open("i4_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.array([-7, 7], dtype="<i4"), version=(2, 0))
with open("i1_v3.npy", "wb") as f:
    np.lib.format.write_array(f, np.array([[-1, 1]], dtype="i1"), version=(3, 0))
