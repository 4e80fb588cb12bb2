"""Time forward + backward of the recurrent layers: rnncore's fast path against its reference path,
its own plain-numpy BPTT and PyTorch on the CPU.

    python benchmarks/bench_cells.py                    # float32, 10 repeats
    python benchmarks/bench_cells.py --dtype float64 --repeats 20

The loss is sum(hs * G) for a fixed random G, with gradients for every parameter (not for xs).
For each case and cell it prints the median time (ms) of:

    fast    autograd.grad through rnncore.<cell>.forward (the primitive with BPTT by hand)
    ref     autograd.grad through rnncore.<cell>.forward_reference (autograd step by step)
    numpy   rnncore.fastpath.<cell>'s numpy_forward, the loss, numpy_backward called directly:
            the primitive without autograd
    torch   torch.nn.RNN / LSTM / GRU at the same dtype, loss.backward() (skipped without torch)

    python benchmarks/bench_cells.py --dtype both --cells lstm --no-reference --clock cpu

Both sides get the same number of threads, --threads (default 1): it sets OPENBLAS_NUM_THREADS
(and OMP_NUM_THREADS, MKL_NUM_THREADS) before numpy is imported, and PyTorch, in a child process,
calls torch.set_num_threads with it. fast, ref, numpy and torch run in turn (round robin, one call
each, in a new random order each round), so that a busy moment of the machine slows them alike.
One thread is the default because a round robin is fair only then: with more, each side's idle
pool threads spin-wait on the cores
for a while after its call (OpenBLAS's and OpenMP's busy waiting), while the other side runs;
PyTorch's many short parallel regions (an LSTM step is several) suffered most (measured on 2
cores: torch.nn.LSTM float64 char LM B=1 at 110 ms interleaved, 24 ms alone). With --threads N > 1
the table is still printed, but read it with that in mind. This is a script, not a test.
"""
import argparse
import os
import json
import platform
import subprocess
import sys
import time


def _threads_from_argv(argv):
    """--threads N (or --threads=N) from the command line, before argparse: the BLAS reads its
    thread count when numpy is imported."""
    for k, arg in enumerate(argv):
        if arg == "--threads" and k + 1 < len(argv):
            return argv[k + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv(sys.argv)

import autograd  # noqa: E402  (after the thread count is set)
import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402

from rnncore import fastpath, gru, lstm, rnn  # noqa: E402

CASES = [  # name, D, H, T, B; the char LM's inputs are one-hot characters
    ("char LM B=1", 65, 128, 50, 1),
    ("char LM B=32", 65, 128, 50, 32),
    ("time series", 1, 64, 100, 64),
    ("long range", 2, 128, 200, 32),
]
CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = [time.perf_counter, "wall"]                  # set from --clock


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
    machine slows all of them alike. A function may return its own time as a float (torch).

    Each round runs the functions in a new random order (seeded): a call is slower when the one
    before it has pushed its data out of the caches, so a fixed order favours the column that
    follows a similar one. Measured with the fixed order fast, numpy, torch (float32 LSTM, one
    function timed twice): fast right after torch 1.39 / 12.5 / 15.5 ms, the same fast right after
    numpy 1.29 / 11.8 / 14.3 ms (char LM B=1, B=32, time series)."""
    times = {name: [] for name in fns}
    order = list(fns)
    shuffle = np.random.default_rng(0).shuffle
    for round_ in range(warmup + repeats):
        shuffle(order)
        for name in order:
            fn = fns[name]
            start = CLOCK[0]()
            own = fn()
            if round_ >= warmup:
                times[name].append(own if isinstance(own, float) else CLOCK[0]() - start)
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
    fast = getattr(fastpath, name)
    if name == "rnn":
        def run():
            hs = fast.numpy_forward(params["W_x"], params["W_h"], params["b_h"], xs, h0)
            float(np.sum(hs * G))
            fast.numpy_backward(params["W_x"], params["W_h"], xs, h0, hs, G, need_dxs=False)
    elif name == "lstm":
        def run():
            hs, cs, tanh_cs, gates = fast.numpy_forward(params["W_x"], params["W_h"], params["b"],
                                                        xs, h0, h0)
            float(np.sum(hs * G))
            fast.numpy_backward(params["W_x"], params["W_h"], xs, h0, h0, hs, cs, tanh_cs, gates,
                                G, h0, need_dxs=False)
    else:
        def run():
            hs, gates = fast.numpy_forward(params["W_x"], params["W_h"], params["b_x"],
                                           params["b_h"], xs, h0)
            float(np.sum(hs * G))
            fast.numpy_backward(params["W_x"], params["W_h"], xs, h0, hs, gates, G, need_dxs=False)
    return run


class TorchWorker:
    """torch.nn.RNN / LSTM / GRU timed in a child process, one call per request, so that PyTorch's
    runs interleave with numpy's (round robin, see :func:`medians_ms`) and a busy moment of the
    machine slows both alike. A child process, because torch's OpenMP threads and numpy's OpenBLAS
    threads, idle but spinning in one process, would take each other's cores."""

    def __init__(self, dtype, threads):
        self.child = subprocess.Popen([sys.executable, __file__, "--dtype", str(dtype),
                                       "--torch-worker", str(threads), "--threads", str(threads),
                                       "--clock", CLOCK[1]],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        first = self.child.stdout.readline()
        if not first:                                # torch missing, or the child failed
            self.version, self.error = None, (self.child.stderr.read().strip().splitlines()
                                              or ["?"])[-1]
        else:
            self.version, self.error = json.loads(first)["version"], None

    def time(self, key):
        """Seconds of one forward + backward of case ``key`` ("cell|case"), measured by the child."""
        self.child.stdin.write(key + "\n")
        self.child.stdin.flush()
        return float(self.child.stdout.readline())

    def close(self):
        if self.version:
            self.child.stdin.close()
        self.child.wait()


def torch_worker(dtype, threads):
    """The child: answers each line "cell|case" with the seconds that one call took."""
    import torch
    torch.set_num_threads(threads)
    classes = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    print(json.dumps({"version": torch.__version__}), flush=True)
    runs, rng = {}, np.random.default_rng(0)
    for line in sys.stdin:
        key = line.strip()
        if key not in runs:
            name, case = key.split("|")
            D, H, T, B = next(sizes for c, *sizes in CASES if c == case)
            xs, G = inputs(case, D, H, T, B, dtype, rng)
            module = classes[name](D, H).to(torch.float32 if dtype == np.float32 else torch.float64)
            x, g = torch.from_numpy(xs), torch.from_numpy(G)

            def run(module=module, x=x, g=g):
                module.zero_grad(set_to_none=True)
                out, _ = module(x)
                (out * g).sum().backward()
            runs[key] = run
        start = CLOCK[0]()
        runs[key]()
        print(CLOCK[0]() - start, flush=True)


def run_dtype(dtype, args, blas, threads):
    """The table for one dtype; returns the fast/torch ratios of its cases."""
    worker = TorchWorker(dtype, threads)
    torch_note = (f"torch {worker.version} in a child process, torch.set_num_threads({threads})"
                  if worker.version else f"torch skipped ({worker.error})")
    print(f"dtype {dtype}, median {CLOCK[1]} time of {args.repeats} runs (the columns in turn, torch's too), "
          f"loss = sum(hs * G), grads for all params; {torch_note}; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    header = (f"{'cell':<5} {'case':<13} {'T':>4} {'B':>3} {'D':>3} {'H':>4} | {'fast':>8} {'ref':>8} "
              f"{'numpy':>8} {'torch':>8} | {'fast/torch':>10} {'fast/numpy':>10}")
    print(header + "\n" + "-" * len(header))
    ratios_torch, ratios_numpy, best_ratios = [], [], []
    rng = np.random.default_rng(0)
    for name in args.cells:
        module = CELLS[name]
        for case, D, H, T, B in (c for c in CASES if c[0] in args.cases):
            params = module.init(D, H, rng, dtype)
            xs, G = inputs(case, D, H, T, B, dtype, rng)
            fast = autograd.grad(lambda p: anp.sum(module.forward(p, xs)[0] * G))
            ref = autograd.grad(lambda p: anp.sum(module.forward_reference(p, xs)[0] * G))
            fns = {"fast": lambda: fast(params), "numpy": numpy_baseline(name, params, xs, G)}
            if worker.version:
                fns["torch"] = lambda key=f"{name}|{case}": worker.time(key)
            if not args.no_reference:
                fns["ref"] = lambda: ref(params)
            t, best = medians_ms(fns, args.repeats)
            t_fast, t_numpy, t_ref = t["fast"], t["numpy"], t.get("ref", np.nan)
            t_torch, best_torch = t.get("torch", np.nan), best.get("torch", np.nan)
            best_ratios.append((best["fast"] / best_torch, best["fast"] / best["numpy"]))
            ratios_torch.append(t_fast / t_torch)
            ratios_numpy.append(t_fast / t_numpy)
            print(f"{name:<5} {case:<13} {T:>4} {B:>3} {D:>3} {H:>4} | {t_fast:8.2f} {t_ref:8.2f} "
                  f"{t_numpy:8.2f} {t_torch:8.2f} | {ratios_torch[-1]:10.2f} {ratios_numpy[-1]:10.2f}",
                  flush=True)
    worker.close()
    print("-" * len(header))
    print(f"over the {len(ratios_torch)} cases: fast/torch median {np.median(ratios_torch):.2f}, "
          f"max {np.max(ratios_torch):.2f} ({sum(r > 1 for r in ratios_torch)} above 1.0); "
          f"fast/numpy median {np.median(ratios_numpy):.2f}  (targets: every case <= 1.0, and "
          f"<= 1.2); load average {os.getloadavg()[0]:.2f}")
    print(f"the same from each column's fastest run (less sensitive to other processes): "
          f"fast/torch median {np.median([r[0] for r in best_ratios]):.2f}, "
          f"max {np.max([r[0] for r in best_ratios]):.2f}; "
          f"fast/numpy median {np.median([r[1] for r in best_ratios]):.2f}\n", flush=True)
    return ratios_torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", choices=["float32", "float64", "both"], default="float32")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cells", nargs="+", choices=list(CELLS), default=list(CELLS))
    parser.add_argument("--cases", nargs="+", choices=[c[0] for c in CASES],
                        default=[c[0] for c in CASES], metavar="CASE",
                        help="some of the cases only, by name, e.g. --cases 'char LM B=1'")
    parser.add_argument("--no-reference", action="store_true", help="skip the (slow) reference path")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall",
                        help="wall: elapsed time; cpu: the process's CPU time (all its threads), "
                             "which other processes on a busy machine inflate far less")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of numpy's BLAS and of PyTorch alike (default 1; see above)")
    parser.add_argument("--torch-worker", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    CLOCK[:] = [CLOCKS[args.clock], args.clock]
    if args.torch_worker:                            # the child process
        torch_worker(np.dtype(args.dtype), args.torch_worker)
        return

    blas, threads = blas_info()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)")
    print(f"numpy {np.__version__}, BLAS {blas}, {threads} BLAS threads")
    print("OPENBLAS_CORETYPE=" + repr(os.environ.get("OPENBLAS_CORETYPE")) + ", OPENBLAS_L2_SIZE="
          + repr(os.environ.get("OPENBLAS_L2_SIZE")) + " (measured as set)\n")
    for dtype in (["float64", "float32"] if args.dtype == "both" else [args.dtype]):
        run_dtype(np.dtype(dtype), args, blas, threads)


if __name__ == "__main__":
    main()
