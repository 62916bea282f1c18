#!/usr/bin/python3
"""Paired etch vs scikit-learn forest yardstick (benchmark only, never part of `make test`).

Usage: paired_yardstick.py DATA.csv FOREST_TEST_BINARY [ROUNDS] [TRAIN_ROWS]

On a shared machine the load drifts within seconds, so a separate etch run and scikit-learn run
can see very different machines. This script alternates them instead: each round times one etch
fit (BenchmarkForestFit, 1x), one scikit-learn fit, then scikit-learn's predict_proba (3 reps)
and etch's (BenchmarkForestPredict, 5x), and reports every round's ratio and the median ratio.
Fits also report CPU seconds (etch: its whole benchmark process), which a busy machine distorts
less than wall time.
scikit-learn: RandomForestClassifier(n_estimators=100, n_jobs=2); etch: 100 trees, 2 threads.
"""
import re
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def etch(binary, bench, benchtime):
    out = subprocess.run([binary, "-test.run", "^$", "-test.bench", "^" + bench + "$",
                          "-test.benchtime", benchtime], capture_output=True, text=True, check=True).stdout
    m = re.search(bench + r"\S*\s+\d+\s+(\d+) ns/op(?:\s+(\d+) rows/s)?", out)
    if not m:
        sys.exit("no benchmark result in:\n" + out)
    return int(m.group(1)) / 1e9, (int(m.group(2)) if m.group(2) else None)


def main():
    path, binary = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    n_train = int(sys.argv[4]) if len(sys.argv) > 4 else 18000
    data = np.loadtxt(path, delimiter=",", dtype=np.float32)
    y = data[:, 0].astype(np.int64)
    x = np.ascontiguousarray(data[:, 1:])
    fit_ratios, pred_ratios = [], []
    for r in range(rounds):
        c0 = cpu(resource.RUSAGE_CHILDREN)
        e_fit, _ = etch(binary, "BenchmarkForestFit", "1x")
        e_cpu = cpu(resource.RUSAGE_CHILDREN) - c0  # the whole process: data, fit
        rf = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=1)
        c0 = cpu(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        rf.fit(x[:n_train], y[:n_train])
        s_fit = time.perf_counter() - t0
        s_cpu = cpu(resource.RUSAGE_SELF) - c0
        rf.predict_proba(x[:1000])  # warm up the thread pool
        t0 = time.perf_counter()
        for _ in range(3):
            rf.predict_proba(x)
        s_rows = x.shape[0] / ((time.perf_counter() - t0) / 3)
        _, e_rows = etch(binary, "BenchmarkForestPredict", "5x")
        fit_ratios.append(s_fit / e_fit)
        pred_ratios.append(e_rows / s_rows)
        print(f"round {r + 1}: fit etch {e_fit:.2f} s ({e_cpu:.2f} CPU-s), sklearn {s_fit:.2f} s "
              f"({s_cpu:.2f} CPU-s) ({fit_ratios[-1]:.1f}x); "
              f"predict_proba etch {e_rows:.0f} rows/s, sklearn {s_rows:.0f} rows/s ({pred_ratios[-1]:.1f}x)",
              flush=True)
    acc = float((rf.predict(x[n_train:]) == y[n_train:]).mean())
    print(f"median ratios over {rounds} rounds: fit {statistics.median(fit_ratios):.1f}x faster, "
          f"predict_proba {statistics.median(pred_ratios):.1f}x the rows/s; sklearn test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
