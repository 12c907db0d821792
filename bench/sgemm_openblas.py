#!/usr/bin/python3
"""OpenBLAS float32 GEMM timings for `make bench-compare` (bench/sgemmcompare).

Runs as a child of the Go driver so that gitcap, OpenBLAS and gonum are timed
interleaved in one job. Protocol, one request per line on stdin:

    M K N LAYOUT THREADS MINTIME      LAYOUT: nn = A[M,K]·B[K,N]
                                              nt = A[M,K]·W[N,K]ᵀ (Linear)

and one reply per line on stdout: the GFLOP/s of np.matmul over at least
MINTIME seconds after one warm-up call. The first line of output describes
numpy and the OpenBLAS build (core type as chosen by OPENBLAS_CORETYPE or
OpenBLAS's own detection). Thread counts are switched inside the process with
openblas_set_num_threads. Needs Debian's python3-numpy and
libopenblas0-pthread (run with /usr/bin/python3).
"""
import ctypes
import os
import sys
import time

import numpy as np


def find_openblas():
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if "libopenblas" in path:
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_set_num_threads"):
                return lib, path
    return None, None


def main():
    x = np.ones((4, 4), np.float32)
    x @ x  # load BLAS
    ob, path = find_openblas()
    if ob is None:
        print("error: numpy does not use OpenBLAS", flush=True)
        sys.exit(1)
    ob.openblas_get_corename.restype = ctypes.c_char_p
    ob.openblas_get_config.restype = ctypes.c_char_p
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP", "GOTO"))}
    print(f"numpy {np.__version__} | {os.path.basename(path)} | {ob.openblas_get_config().decode()}"
          f" | core {ob.openblas_get_corename().decode()} | env {env or '{}'}", flush=True)
    rng = np.random.default_rng(1)
    cache = {}
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        m, k, n, lay, t, mintime = int(f[0]), int(f[1]), int(f[2]), f[3], int(f[4]), float(f[5])
        key = (m, k, n, lay)
        if key not in cache:
            a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
            if lay == "nt":
                rhs = rng.uniform(-1, 1, (n, k)).astype(np.float32).T
            else:
                rhs = rng.uniform(-1, 1, (k, n)).astype(np.float32)
            cache[key] = (a, rhs, np.empty((m, n), np.float32))
        a, rhs, c = cache[key]
        ob.openblas_set_num_threads(t)
        np.matmul(a, rhs, out=c)
        cnt = 0
        t0 = time.perf_counter()
        while True:
            np.matmul(a, rhs, out=c)
            cnt += 1
            el = time.perf_counter() - t0
            if el >= mintime:
                break
        print(f"{2.0 * m * k * n * cnt / el / 1e9:.3f}", flush=True)


if __name__ == "__main__":
    main()
