"""Benchmark: one training step of the NumPy FullyConnectedNet vs the same net in PyTorch (CPU).

    python benchmarks/bench_train_step.py            # full run
    python benchmarks/bench_train_step.py --quick    # fewer repeats

Table 1 (the target): one step = forward + backward + Adam update of all
parameters of FullyConnectedNet([512, 512], input_dim=3072, num_classes=10) on
a batch of 256, in float32 and float64. The NumPy side is ``fc_net`` +
``optim.adam`` exactly as ``Solver`` runs them; the torch side is
nn.Linear/nn.ReLU + F.cross_entropy + torch.optim.Adam with the same weights.
Steps are timed interleaved (numpy, torch, numpy, torch, ...) so both see the
same machine state, and the medians are reported. Target: numpy/torch <= 1.5.

Table 2 (informational): one call of each update rule of ``cs231n_lec7.optim``
on 1e6 and 1e7 float32 parameters vs the matching torch.optim optimizer.

Thread counts: numpy's BLAS keeps its default (reported by threadpoolctl when
available); torch uses the same number of intra-op threads (its default when
the two agree, else torch.set_num_threads). Both are printed.
Without torch, only the NumPy figures are printed.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cs231n_lec7 import optim  # noqa: E402
from cs231n_lec7.fc_net import FullyConnectedNet  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the benchmark still reports the NumPy side
    torch = None

HIDDEN, INPUT_DIM, NUM_CLASSES, BATCH = [512, 512], 3072, 10, 256
TARGET_RATIO = 1.5

# cs231n_lec7.optim rule -> (torch.optim class name, keyword arguments), same hyper-parameters.
TORCH_RULES = {
    "sgd": ("SGD", dict(lr=1e-2)),
    "sgd_momentum": ("SGD", dict(lr=1e-2, momentum=0.9)),
    "nesterov_momentum": ("SGD", dict(lr=1e-2, momentum=0.9, nesterov=True)),
    "adagrad": ("Adagrad", dict(lr=1e-2, eps=1e-8)),
    "rmsprop": ("RMSprop", dict(lr=1e-2, alpha=0.99, eps=1e-8)),
    "adam": ("Adam", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
}
NUMPY_CONFIG = {
    "sgd": dict(learning_rate=1e-2),
    "sgd_momentum": dict(learning_rate=1e-2, momentum=0.9),
    "nesterov_momentum": dict(learning_rate=1e-2, momentum=0.9),
    "adagrad": dict(learning_rate=1e-2, epsilon=1e-8),
    "rmsprop": dict(learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8),
    "adam": dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8),
}


def blas_pools():
    """numpy's BLAS thread pools as threadpoolctl reports them ([] without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]


def match_threads():
    """Thread report lines; torch gets numpy's BLAS thread count if the two defaults differ."""
    lines = []
    pools = blas_pools()
    for pool in pools:
        lines.append(f"numpy BLAS: {pool.get('internal_api')} {pool.get('version')}, "
                     f"{pool.get('num_threads')} threads ({os.path.basename(pool.get('filepath', ''))})")
    if not pools:
        lines.append("numpy BLAS: thread count unknown (threadpoolctl missing) "
                     f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
                     f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})")
    if torch is not None:
        default = torch.get_num_threads()
        blas_threads = pools[0].get("num_threads") if pools else None
        if blas_threads and blas_threads != default:
            torch.set_num_threads(blas_threads)
            lines.append(f"torch {torch.__version__}: default {default} intra-op threads, set to {blas_threads} "
                         f"to match numpy's BLAS")
        else:
            lines.append(f"torch {torch.__version__}: {default} intra-op threads (default, same as numpy's BLAS)")
    lines.append(f"CPUs available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    return lines


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def interleaved(fns, repeats, warmup):
    """Median ms per call of each function, calls interleaved round-robin."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            times[k].append(timed(fn))
    return [statistics.median(t) for t in times]


# --------------------------------------------------------------------------
# Table 1: a training step
# --------------------------------------------------------------------------
def numpy_train_step(dtype, X, y):
    """A closure running one NumPy training step (loss, grads, Adam on every parameter)."""
    model = FullyConnectedNet(HIDDEN, input_dim=INPUT_DIM, num_classes=NUM_CLASSES, dtype=dtype, seed=0)
    configs = {p: {"learning_rate": 1e-3} for p in model.params}
    X = X.astype(dtype)
    losses = []

    def step():
        loss, grads = model.loss(X, y)
        for p, w in model.params.items():
            model.params[p], configs[p] = optim.adam(w, grads[p], configs[p])
        losses.append(loss)

    return step, model, losses


def torch_train_step(dtype, X, y, model):
    """The same network and first weights in torch; a closure running one step."""
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    dims = [INPUT_DIM] + HIDDEN + [NUM_CLASSES]
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        lin = torch.nn.Linear(a, b, dtype=tdtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T.copy()))
            lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X.astype(dtype))
    yt = torch.from_numpy(y.astype(np.int64))
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(Xt), yt)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))

    return step, losses


def bench_train_step(repeats, warmup):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, INPUT_DIM))
    y = rng.integers(NUM_CLASSES, size=BATCH)
    rows = []
    for dtype in (np.float32, np.float64):
        np_step, model, np_losses = numpy_train_step(dtype, X, y)
        if torch is None:
            (np_ms,) = interleaved([np_step], repeats, warmup)
            rows.append((np.dtype(dtype).name, np_ms, None, None, None))
            continue
        t_step, t_losses = torch_train_step(dtype, X, y, model)
        np_ms, t_ms = interleaved([np_step, t_step], repeats, warmup)
        # Same weights, same batch: the first losses must agree (a sanity check of the comparison).
        agree = abs(np_losses[0] - t_losses[0]) <= 1e-4 * max(1.0, abs(t_losses[0]))
        rows.append((np.dtype(dtype).name, np_ms, t_ms, np_ms / t_ms, agree))
    return rows


# --------------------------------------------------------------------------
# Table 2: update rules
# --------------------------------------------------------------------------
def bench_update_rules(sizes, repeats, warmup):
    rows = []
    for n in sizes:
        rng = np.random.default_rng(1)
        w0 = rng.standard_normal(n, dtype=np.float32)
        dw = rng.standard_normal(n, dtype=np.float32)
        for name, (torch_name, torch_kwargs) in TORCH_RULES.items():
            rule = getattr(optim, name)
            state = {"w": w0.copy(), "config": dict(NUMPY_CONFIG[name])}

            def np_step(rule=rule, state=state):
                state["w"], state["config"] = rule(state["w"], dw, state["config"])

            fns = [np_step]
            if torch is not None:
                param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
                param.grad = torch.from_numpy(dw.copy())
                opt = getattr(torch.optim, torch_name)([param], **torch_kwargs)

                def t_step(opt=opt):
                    with torch.no_grad():
                        opt.step()

                fns.append(t_step)
            times = interleaved(fns, repeats, warmup)
            t_ms = times[1] if torch is not None else None
            rows.append((name, f"{n:.0e}", times[0], t_ms, times[0] / t_ms if t_ms else None,
                         f"torch.optim.{torch_name}"))
    return rows


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure in seconds)")
    args = parser.parse_args(argv)
    step_repeats, step_warmup = (10, 2) if args.quick else (40, 5)
    rule_repeats, rule_warmup = (5, 1) if args.quick else (15, 3)

    print("Threads:")
    for line in match_threads():
        print("  " + line)
    if torch is None:
        print("torch is absent: NumPy figures only (pip install 'cs231n-lec7[torch]' to compare)")
    print()

    print(f"Table 1 — one training step: FullyConnectedNet({HIDDEN}, input_dim={INPUT_DIM}, "
          f"num_classes={NUM_CLASSES}), batch {BATCH}, forward + backward + Adam "
          f"(median of {step_repeats}, interleaved)")
    print(f"{'dtype':<8} {'numpy ms':>9} {'torch ms':>9} {'numpy/torch':>12} {'target':>7} {'same loss':>10}")
    rows = bench_train_step(step_repeats, step_warmup)
    for dtype, np_ms, t_ms, ratio, agree in rows:
        verdict = "—" if ratio is None else ("ok" if ratio <= TARGET_RATIO else "SLOW")
        print(f"{dtype:<8} {np_ms:9.2f} {fmt(t_ms, '9.2f'):>9} {fmt(ratio, '12.2f'):>12} "
              f"{verdict:>7} {('—' if agree is None else ('yes' if agree else 'NO')):>10}")
    print()

    sizes = (10**6, 10**7)
    print(f"Table 2 — one update-rule call on float32 parameters (informational; median of {rule_repeats})")
    print(f"{'rule':<18} {'params':>6} {'numpy ms':>9} {'torch ms':>9} {'numpy/torch':>12}  torch optimizer")
    for name, n, np_ms, t_ms, ratio, torch_name in bench_update_rules(sizes, rule_repeats, rule_warmup):
        print(f"{name:<18} {n:>6} {np_ms:9.2f} {fmt(t_ms, '9.2f'):>9} {fmt(ratio, '12.2f'):>12}  "
              f"{torch_name if torch is not None else '—'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
