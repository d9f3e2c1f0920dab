"""Collects the JSON-line records of a peers.sh run into one JSON file and prints Markdown tables.

    python3 Benchmarks/peers_table.py RECORDS.jsonl Benchmarks/results/peers.json
Standard library only (runs with the system python3).
"""

import json
import sys


def fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def conv_table(records):
    rows = ["| runtime | kernel path | pad | shape | threads | ms best | ms median | Gop/s | notes |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r["peer"] == "lce" and "error" not in r:
            notes = f"wrapper floor {fmt(r['io_floor_ms'])} ms; exact: {r['max_abs_error_vs_keras'] == 0}"
            rows.append(f"| LCE {r['versions']['lce']} | {r['kernel']} | {r['pad_values']:g} | {r['shape']} | {r['threads']} "
                        f"| {fmt(r['ms_best'])} | {fmt(r['ms_median'])} | {r['gops']} | {notes} |")
        elif r["peer"] == "lce":
            rows.append(f"| LCE | {r['kernel']} | {r['pad_values']:g} | {r['shape']} | {r['threads']} | - | - | - | failed: {r['error']} |")
        elif r["peer"] == "lowbit" and r.get("op") == "binary conv, float in/out":
            rows.append(f"| LowBit | {r['kernel']} | 0 | {r['shape']} | {r['threads']} | {fmt(r['ms_best'])} | - | {r['gops']} "
                        f"| cores used {r['cores_used']} |")
    return rows


def gemm_table(records):
    rows = ["| runtime | op | shape | threads | ms best | ms median | Gop/s | exact (full-range u8) |",
            "|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r["peer"] == "ort" and "op" in r:
            exact = r.get("exact")
            exact_text = "-" if exact is None else ("yes" if exact else f"no ({r['mismatches']} wrong; 7-bit A exact: {r['exact_7bit_a']})")
            rows.append(f"| ORT {r['versions']['ort']} | {r['op']} | {r['shape']} | {r['threads']} | {fmt(r['ms_best'])} "
                        f"| {fmt(r['ms_median'])} | {r['gops']} | {exact_text} |")
        elif r["peer"] == "lowbit" and r.get("op", "").startswith("int8 GEMM"):
            rows.append(f"| LowBit | {r['op']} | {r['shape']} | {r['threads']} | {fmt(r['ms_best'])} | - | {r['gops']} | yes (by design) |")
    return rows


def e2e_table(records):
    rows = ["| runtime | model | batch | threads | ms best | ms median | test accuracy | file bytes |",
            "|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r.get("model") != "resnet20-fmnist float":
            continue
        if r["peer"] == "pytorch":
            name, size = f"PyTorch {r['versions']['torch']}", r["lowbit_file_bytes"]
        elif r["peer"] == "ort":
            name, size = f"ORT {r['versions']['ort']}", r["onnx_bytes"]
        else:
            name, size = "LowBit (packed)", r["packed_file_bytes"]
        accuracy = r.get("accuracy")
        accuracy_text = "-" if accuracy is None else f"{accuracy:.4f} on {r['test_images']}"
        if r["peer"] == "lowbit" and accuracy is not None:
            accuracy_text += " (model metadata)"
        rows.append(f"| {name} | {r['model']} | {r['batch']} | {r['threads']} | {fmt(r['ms_best'])} "
                    f"| {fmt(r['ms_median'])} | {accuracy_text} | {size} |")
    return rows


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source) as f:
        records = [json.loads(line) for line in f if line.strip()]
    with open(target, "w") as f:
        json.dump(records, f, indent=1)
        f.write("\n")
    machine = next((r["machine"] for r in records if "machine" in r), {})
    print(f"Peer benchmarks: {len(records)} records in {target}; CPU {machine.get('cpu')}, "
          f"{machine.get('cpus')} CPUs, load average at start {machine.get('loadavg')}\n")
    for title, rows in (("Binary 3x3 convolution, float in/out (NHWC)", conv_table(records)),
                        ("8-bit GEMM u8 x s8 -> s32, and float GEMM", gemm_table(records)),
                        ("End to end: float ResNet-20 (Fashion-MNIST), batch 1", e2e_table(records))):
        if len(rows) > 2:
            print(f"### {title}\n")
            print("\n".join(rows))
            print()


if __name__ == "__main__":
    main()
