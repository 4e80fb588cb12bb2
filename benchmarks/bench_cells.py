"""Time forward + backward of the recurrent layers: rnncore's fast path against its reference path,
its own plain-numpy BPTT and PyTorch on the CPU.

    python benchmarks/bench_cells.py                    # float32, 10 repeats
    python benchmarks/bench_cells.py --dtype float64 --repeats 20

The loss is sum(hs * G) for a fixed random G, with gradients for every parameter (not for xs).
For each case and cell it prints the median time (ms) of:

    fast    autograd.grad through rnncore.<cell>.forward (the primitive with BPTT by hand)
    ref     autograd.grad through rnncore.<cell>.forward_reference (autograd step by step)
    numpy   numpy_forward, the loss, numpy_backward called directly: the primitive without autograd
    torch   torch.nn.RNN / LSTM / GRU at the same dtype, loss.backward() (skipped without torch)

PyTorch runs first, in a child process, with as many threads as numpy's BLAS (printed); fast, ref
and numpy then run in turn (round robin), so that a busy moment of the machine slows them alike.
This is a script, not a test.
"""
import argparse
import os
import json
import platform
import subprocess
import sys
import time

import autograd
import autograd.numpy as anp
import numpy as np

from rnncore import gru, lstm, rnn

CASES = [  # name, D, H, T, B; the char LM's inputs are one-hot characters
    ("char LM B=1", 65, 128, 50, 1),
    ("char LM B=32", 65, 128, 50, 32),
    ("time series", 1, 64, 100, 64),
    ("long range", 2, 128, 200, 32),
]
CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def blas_info():
    """(description, number of threads) of numpy's BLAS, from threadpoolctl if installed."""
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return (f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernels, "
                    f"via threadpoolctl)", int(p["num_threads"]))
    except ImportError:
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", len(os.sched_getaffinity(0))))
    return f"{blas.get('name')} {blas.get('version')} (numpy.show_config)", threads


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def medians_ms(fns, repeats, warmup=2):
    """Median time (ms) of each function, run in turn (round robin), so that a busy moment of the
    machine slows all of them alike. A function may return its own time as a float (torch)."""
    times = {name: [] for name in fns}
    for round_ in range(warmup + repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            own = fn()
            if round_ >= warmup:
                times[name].append(own if isinstance(own, float) else time.perf_counter() - start)
    return ({name: 1e3 * float(np.median(t)) for name, t in times.items()},
            {name: 1e3 * float(np.min(t)) for name, t in times.items()})


def inputs(case, D, H, T, B, dtype, rng):
    if case.startswith("char"):                                # one-hot characters
        xs = np.eye(D, dtype=dtype)[rng.integers(0, D, size=(T, B))]
    else:
        xs = rng.normal(size=(T, B, D)).astype(dtype)
    return xs, rng.normal(size=(T, B, H)).astype(dtype)      # xs (T, B, D), G (T, B, H)


def numpy_baseline(name, params, xs, G):
    """The plain-numpy forward and backward called directly: the loss sum(hs * G) and, by hand,
    its gradient dL/dhs = G (dL/dc_T = 0 for the LSTM)."""
    B, H = xs.shape[1], G.shape[-1]
    h0 = np.zeros((B, H), dtype=xs.dtype)
    if name == "rnn":
        def run():
            hs = rnn.numpy_forward(params["W_x"], params["W_h"], params["b_h"], xs, h0)
            float(np.sum(hs * G))
            rnn.numpy_backward(params["W_x"], params["W_h"], xs, h0, hs, G, need_dxs=False)
    elif name == "lstm":
        def run():
            hs, cs, tanh_cs, gates = lstm.numpy_forward(params["W_x"], params["W_h"], params["b"],
                                                        xs, h0, h0)
            float(np.sum(hs * G))
            lstm.numpy_backward(params["W_x"], params["W_h"], xs, h0, h0, hs, cs, tanh_cs, gates,
                                G, h0, need_dxs=False)
    else:
        def run():
            hs, gates = gru.numpy_forward(params["W_x"], params["W_h"], params["b_x"],
                                          params["b_h"], xs, h0)
            float(np.sum(hs * G))
            gru.numpy_backward(params["W_x"], params["W_h"], xs, h0, hs, gates, G, need_dxs=False)
    return run


def torch_times(dtype, repeats, threads):
    """{"cell|case": median ms} for torch.nn.RNN / LSTM / GRU; runs in a child process."""
    import torch
    torch.set_num_threads(threads)
    classes = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    times, rng = {}, np.random.default_rng(0)
    for name, cls in classes.items():
        for case, D, H, T, B in CASES:
            xs, G = inputs(case, D, H, T, B, dtype, rng)
            module = cls(D, H).to(torch.float32 if dtype == np.float32 else torch.float64)
            x, g = torch.from_numpy(xs), torch.from_numpy(G)

            def run():
                module.zero_grad(set_to_none=True)
                out, _ = module(x)
                (out * g).sum().backward()
            median, best = medians_ms({"torch": run}, repeats)
            times[f"{name}|{case}"] = (median["torch"], best["torch"])
    return {"version": torch.__version__, "times": times}


def run_torch(dtype, repeats, threads):
    """torch_times in a child process (torch's OpenMP threads and numpy's OpenBLAS threads, idle
    but spinning in one process, would take each other's cores); None if torch is missing."""
    child = subprocess.run([sys.executable, __file__, "--dtype", str(dtype), "--repeats",
                            str(repeats), "--torch-worker", str(threads)],
                           capture_output=True, text=True)
    if child.returncode != 0:
        return None, (child.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(child.stdout), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--no-reference", action="store_true", help="skip the (slow) reference path")
    parser.add_argument("--torch-worker", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    if args.torch_worker:                            # the child process
        print(json.dumps(torch_times(dtype, args.repeats, args.torch_worker)))
        return

    blas, threads = blas_info()
    torch, error = run_torch(dtype, args.repeats, threads)
    torch_note = (f"torch {torch['version']} (run first, in a child process), "
                  f"torch.set_num_threads({threads})" if torch else f"torch skipped ({error})")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)")
    print(f"numpy {np.__version__}, BLAS {blas}, {threads} BLAS threads; {torch_note}")
    print("OPENBLAS_CORETYPE=" + repr(os.environ.get("OPENBLAS_CORETYPE")) + ", OPENBLAS_L2_SIZE="
          + repr(os.environ.get("OPENBLAS_L2_SIZE")) + " (measured as set)")
    print(f"dtype {dtype}, median of {args.repeats} runs (the columns in turn), "
          f"loss = sum(hs * G), grads for all params; load average {os.getloadavg()[0]:.2f}\n")

    header = (f"{'cell':<5} {'case':<13} {'T':>4} {'B':>3} {'D':>3} {'H':>4} | {'fast':>8} {'ref':>8} "
              f"{'numpy':>8} {'torch':>8} | {'fast/torch':>10} {'fast/numpy':>10}")
    print(header + "\n" + "-" * len(header))
    ratios_torch, ratios_numpy, best_ratios = [], [], []
    rng = np.random.default_rng(0)
    for name, module in CELLS.items():
        for case, D, H, T, B in CASES:
            params = module.init(D, H, rng, dtype)
            xs, G = inputs(case, D, H, T, B, dtype, rng)
            fast = autograd.grad(lambda p: anp.sum(module.forward(p, xs)[0] * G))
            ref = autograd.grad(lambda p: anp.sum(module.forward_reference(p, xs)[0] * G))
            fns = {"fast": lambda: fast(params), "numpy": numpy_baseline(name, params, xs, G)}
            if not args.no_reference:
                fns["ref"] = lambda: ref(params)
            t, best = medians_ms(fns, args.repeats)
            t_fast, t_numpy, t_ref = t["fast"], t["numpy"], t.get("ref", np.nan)
            t_torch, best_torch = torch["times"][f"{name}|{case}"] if torch else (np.nan, np.nan)
            best_ratios.append((best["fast"] / best_torch, best["fast"] / best["numpy"]))
            ratios_torch.append(t_fast / t_torch)
            ratios_numpy.append(t_fast / t_numpy)
            print(f"{name:<5} {case:<13} {T:>4} {B:>3} {D:>3} {H:>4} | {t_fast:8.2f} {t_ref:8.2f} "
                  f"{t_numpy:8.2f} {t_torch:8.2f} | {ratios_torch[-1]:10.2f} {ratios_numpy[-1]:10.2f}",
                  flush=True)
    print("-" * len(header))
    print(f"median over the {len(ratios_torch)} cases: fast/torch {np.median(ratios_torch):.2f}, "
          f"fast/numpy {np.median(ratios_numpy):.2f}  (targets: <= 1.0 and <= 1.2); "
          f"load average {os.getloadavg()[0]:.2f}")
    if best_ratios:
        print(f"the same from each column's fastest run (less sensitive to other processes): "
              f"fast/torch {np.median([r[0] for r in best_ratios]):.2f}, "
              f"fast/numpy {np.median([r[1] for r in best_ratios]):.2f}")
    return None


if __name__ == "__main__":
    main()
