#!/usr/bin/env python3
"""PyTorch yardstick for etch's cnn_lstm preset (a benchmark script, never part of `make test`).

Same architecture as harness/model/nn's cnn_lstm preset (Conv1D 64 k3 ReLU -> MaxPool 2 ->
Dropout 0.3 -> LSTM 64 -> Dropout 0.3 -> Dense 64 ReLU -> Dense classes), Adam lr 1e-3, batch 128,
on a GCseq-shaped synthetic set (flows x 100 packet sizes, 25 classes: a class-specific bump plus
noise, like the Go benchmark's generator). Prints one JSON line: seconds per epoch, inference
flows/s and test accuracy. --dump DIR also writes the exact train/test sets (train.bin, test.bin:
int32 n, int32 length, n*length float32 sizes, n int32 labels, little-endian) for
BenchmarkCNNLSTMAccuracy (ETCH_NN_YARDSTICK_DATA=DIR), so both tools train on the same flows.

    apt-get install -y --no-install-recommends python3-torch
    /usr/bin/python3 harness/model/nn/testdata/torch_yardstick.py --threads 2
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn


def synth(n, length, classes, rng):
    y = np.arange(n) % classes
    x = 100 + 20 * rng.standard_normal((n, length))
    pos = (y * length // classes + rng.integers(0, 2, n)) % length
    for i in range(n):
        x[i, pos[i]:pos[i] + 2] += 400
    return x.astype(np.float32), y.astype(np.int64)


class CNNLSTM(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv = nn.Conv1d(1, 64, 3)
        self.pool = nn.MaxPool1d(2)
        self.drop1 = nn.Dropout(0.3)
        self.lstm = nn.LSTM(64, 64, batch_first=True)
        self.drop2 = nn.Dropout(0.3)
        self.fc = nn.Linear(64, 64)
        self.out = nn.Linear(64, classes)

    def forward(self, x):  # x [N, L, 1]
        h = torch.relu(self.conv(x.transpose(1, 2)))
        h = self.drop1(self.pool(h).transpose(1, 2))
        h, _ = self.lstm(h)
        h = self.drop2(h[:, -1])
        return self.out(torch.relu(self.fc(h)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flows", type=int, default=18000)
    p.add_argument("--len", type=int, default=100)
    p.add_argument("--classes", type=int, default=25)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dump", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    x, y = synth(a.flows, a.len, a.classes, rng)
    xt, yt = synth(a.flows // 4, a.len, a.classes, rng)
    if a.dump:
        for name, (dx, dy) in (("train.bin", (x, y)), ("test.bin", (xt, yt))):
            with open(f"{a.dump}/{name}", "wb") as f:
                f.write(np.array(dx.shape, dtype="<i4").tobytes())
                f.write(dx.astype("<f4").tobytes())
                f.write(dy.astype("<i4").tobytes())
    mean, std = x.mean(), x.std()
    x, xt = (x - mean) / std, (xt - mean) / std
    X, Y = torch.from_numpy(x).unsqueeze(-1), torch.from_numpy(y)
    XT = torch.from_numpy(xt).unsqueeze(-1)
    model = CNNLSTM(a.classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    epoch_s = []
    for _ in range(a.epochs):
        model.train()
        perm = torch.randperm(a.flows)
        t0 = time.perf_counter()
        for i in range(0, a.flows, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        epoch_s.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        preds = []
        for i in range(0, X.shape[0], 512):
            preds.append(torch.softmax(model(X[i:i + 512]), -1))
        infer_s = time.perf_counter() - t0
        acc = float((model(XT).argmax(-1).numpy() == yt).mean())
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "flows": a.flows,
                      "s_per_epoch": min(epoch_s), "epochs": a.epochs,
                      "predict_flows_per_s": X.shape[0] / infer_s, "test_accuracy": acc}))


if __name__ == "__main__":
    main()
