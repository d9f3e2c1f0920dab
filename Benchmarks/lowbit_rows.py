"""LowBit's own numbers for the rows the peers are compared with, from the lowbit binary, same run.

Runs (standard library only):
  - `lowbit bench kernels --threads 1,2 --repeat R --json`, keeping the rows that match the peers:
    "binary conv, float in/out" (vs LCE) and "int8 GEMM (u8 x s8 -> s32)" (vs ORT MatMulInteger).
    Those are best-of-R times (LowBit's kernel benchmark keeps the best run).
  - `lowbit pack MODEL` then `lowbit bench model PACKED --batch-sizes 1 --threads T --json` for the
    float ResNet-20 (vs PyTorch and ORT); that command reports the median of --repeat runs.
Emits the same JSON-line records as the peer scripts with "peer": "lowbit".
"""

import datetime
import json
import os
import subprocess

from e2e_resnet20 import read_lowbit
from peer_common import Recorder, log, machine_info, parse_args

KERNEL_ROWS = {"binary conv, float in/out", "int8 GEMM (u8 x s8 -> s32)"}


def run_json(command):
    log("+ " + " ".join(command))
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main():
    def extra(parser):
        parser.add_argument("--lowbit", default=os.environ.get("LOWBIT", ".build/release/lowbit"))
        parser.add_argument("--model", default=os.environ.get("LOWBIT_RESNET20", "experiments/resnet20-fmnist.lowbit"))
        parser.add_argument("--packed", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "results", "resnet20-fmnist.packed.lowbit"))

    args = parse_args(__doc__.splitlines()[0], extra)
    # the binary may come from another checkout than these scripts: record its path and modification time
    modified = datetime.datetime.fromtimestamp(os.path.getmtime(args.lowbit), datetime.timezone.utc)
    rec = Recorder(args.out, {"versions": {"lowbit_binary": os.path.abspath(args.lowbit),
                                           "lowbit_binary_mtime": modified.isoformat(timespec="seconds")},
                              "machine": machine_info()})

    kernels = run_json([args.lowbit, "bench", "kernels", "--threads", "1,2", "--repeat", "3" if args.quick else "7", "--json"])
    for row in kernels["rows"]:
        if row["name"] not in KERNEL_ROWS:
            continue
        rec.emit({"peer": "lowbit", "op": row["name"], "shape": row["shape"], "threads": row["threads"],
                  "ms_best": round(row["seconds"] * 1e3, 4), "ms_median": None,
                  "gops": round(row["gops"], 1), "kernel": kernels["header"].get("path"),
                  "cores_used": round(row["cores_used"], 2)})

    if not os.path.exists(args.model):
        log(f"lowbit: {args.model} not found, skipping the ResNet-20 rows (set LOWBIT_RESNET20)")
        return
    os.makedirs(os.path.dirname(args.packed), exist_ok=True)
    metrics = read_lowbit(args.model)[1].get("metrics", {})  # LowBit's own test-set evaluation, stored at training
    accuracy, test_images = metrics.get("accuracy"), metrics.get("samples")
    packed = run_json([args.lowbit, "pack", args.model, "-o", args.packed, "--json"])
    for threads in (1, 2):
        bench = run_json([args.lowbit, "bench", "model", args.packed, "--threads", str(threads), "--batch-sizes", "1",
                          "--repeat", "50" if args.quick else "300", "--json"])
        rec.emit({"peer": "lowbit", "model": "resnet20-fmnist float", "batch": 1, "threads": threads,
                  "ms_best": None, "ms_median": round(bench["latency_us"]["1"] / 1e3, 4),
                  "accuracy": accuracy, "test_images": test_images, "packed_file_bytes": packed["file_bytes"]})


if __name__ == "__main__":
    main()
