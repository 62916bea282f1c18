#!/usr/bin/python3
"""scikit-learn yardstick for etch's forest (benchmark only, never part of `make test`).

Usage: sklearn_yardstick.py DATA.csv [TRAIN_ROWS]
DATA.csv: label then 100 packet sizes per line, as the Go test TestYardstickCSV writes it
(ETCH_FOREST_CSV=/tmp/gcseq.csv go test -run TestYardstickCSV ./harness/model/forest).
Fits RandomForestClassifier(n_estimators=100, n_jobs=2) on the first TRAIN_ROWS flows (18000),
reports fit seconds, predict_proba rows/s over all flows, and test accuracy.
"""
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def main():
    path = sys.argv[1]
    n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 18000
    data = np.loadtxt(path, delimiter=",", dtype=np.float32)
    y = data[:, 0].astype(np.int64)
    x = np.ascontiguousarray(data[:, 1:])
    rf = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=1)
    t0 = time.perf_counter()
    rf.fit(x[:n_train], y[:n_train])
    fit_s = time.perf_counter() - t0
    rf.predict_proba(x[:1000])  # warm up the thread pool
    reps = 3
    t0 = time.perf_counter()
    for _ in range(reps):
        rf.predict_proba(x)
    pred_s = (time.perf_counter() - t0) / reps
    acc = float((rf.predict(x[n_train:]) == y[n_train:]).mean())
    nodes = sum(e.tree_.node_count for e in rf.estimators_)
    print(f"sklearn fit_s={fit_s:.3f} predict_rows_per_s={x.shape[0] / pred_s:.0f} "
          f"test_accuracy={acc:.4f} nodes={nodes} train={n_train} rows={x.shape[0]}")


if __name__ == "__main__":
    main()
