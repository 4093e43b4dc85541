"""Deterministic, random-access noise: the simulator's only source of randomness.

Every random number is a hash of (seed, stream key, integer bucket), so the value of
any indicator at any past time is reproducible from the seed with no stored history.
"""

from __future__ import annotations

import zlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def key(name: str) -> int:
    """A stable integer for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def hash64(seed: int, *parts: np.ndarray | int) -> np.ndarray:
    """A uint64 hash of the seed and integer parts, broadcast over array parts."""
    with np.errstate(over="ignore"):
        h = _mix(np.atleast_1d(np.asarray(seed, dtype=np.int64).astype(np.uint64)) + _GOLDEN)
        for part in parts:
            p = np.atleast_1d(np.asarray(part, dtype=np.int64)).astype(np.uint64)
            h = _mix(h ^ (p + _GOLDEN + (h << np.uint64(6)) + (h >> np.uint64(2))))
    return h


def uniform(seed: int, *parts: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1), one per broadcast element of ``parts``."""
    return (hash64(seed, *parts) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def normal(seed: int, *parts: np.ndarray | int) -> np.ndarray:
    """Standard normal floats (Box–Muller on two hashed uniforms)."""
    u1 = np.maximum(uniform(seed, *parts, 1), 1e-12)
    u2 = uniform(seed, *parts, 2)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth(seed: int, stream: int, seconds: np.ndarray, period: float,
           members: np.ndarray | None = None) -> np.ndarray:
    """Smooth value noise in about [-1, 1] over time, cosine-interpolated between buckets.

    ``seconds`` has shape (T,); with ``members`` of shape (N,) the result is (T, N):
    one independent smooth curve per member (area, segment, sensor...).
    """
    t = np.asarray(seconds, dtype=np.float64) / period
    bucket = np.floor(t).astype(np.int64)
    frac = t - bucket
    w = (1.0 - np.cos(np.pi * frac)) / 2.0
    if members is None:
        a = uniform(seed, stream, bucket)
        b = uniform(seed, stream, bucket + 1)
        return (a + (b - a) * w) * 2.0 - 1.0
    m = np.asarray(members, dtype=np.int64)[None, :]
    a = uniform(seed, stream, bucket[:, None], m)
    b = uniform(seed, stream, bucket[:, None] + 1, m)
    return (a + (b - a) * w[:, None]) * 2.0 - 1.0


def poisson_counts(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson draws by inverse CDF from uniforms ``u`` (exact up to 12 per draw)."""
    lam = np.asarray(lam, dtype=np.float64)
    p = np.exp(-lam)
    cdf = p.copy()
    count = np.zeros(np.broadcast(u, lam).shape, dtype=np.int64)
    for k in range(1, 13):
        below = u >= cdf
        count += below
        p = p * lam / k
        cdf = cdf + p
    return count
