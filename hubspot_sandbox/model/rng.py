"""Deterministic randomness: stable hashes, a tiny splitmix64 generator and seeded numpy generators.

Python's `hash()` of a str is salted per process, so every seed here comes from blake2b or from
integer mixing; the same inputs give the same data in every process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

MASK64 = (1 << 64) - 1
# splitmix64's constants (shared with the vectorised copy in fill.py).
GOLDEN = 0x9E3779B97F4A7C15
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
COMBINE_FACTOR = 0x100000001B3
UNIT = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a draw as a float in [0, 1)
T = TypeVar("T")


def stable_hash(*parts: object) -> int:
    """64-bit hash of the parts' string forms, identical in every process."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def mix64(z: int) -> int:
    """splitmix64's finaliser: a cheap bijective scramble of a 64-bit int."""
    z = (z + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * MIX_1) & MASK64
    z = ((z ^ (z >> 27)) * MIX_2) & MASK64
    return z ^ (z >> 31)


def combine(a: int, b: int) -> int:
    """Mix two 64-bit keys into one (order matters)."""
    return mix64((a * COMBINE_FACTOR) ^ b)


class Rng:
    """splitmix64 stream: a few hundred ns per draw, cheap to create per (record, property)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & MASK64

    def next64(self) -> int:
        """Next 64-bit value."""
        self._state = (self._state + GOLDEN) & MASK64
        z = self._state
        z = ((z ^ (z >> 30)) * MIX_1) & MASK64
        z = ((z ^ (z >> 27)) * MIX_2) & MASK64
        return z ^ (z >> 31)

    def skip(self, k: int) -> None:
        """Advance past k draws in one step (splitmix64's state moves by a constant per draw)."""
        self._state = (self._state + k * GOLDEN) & MASK64

    def random(self) -> float:
        """Uniform float in [0, 1)."""
        return (self.next64() >> 11) * UNIT

    def below(self, n: int) -> int:
        """Uniform int in [0, n)."""
        return self.next64() % n

    def between(self, lo: int, hi: int) -> int:
        """Uniform int in [lo, hi] (inclusive)."""
        return lo + self.next64() % (hi - lo + 1)

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.random() < p

    def choice(self, seq: Sequence[T]) -> T:
        """One element of a non-empty sequence."""
        return seq[self.next64() % len(seq)]

    def weighted(self, pairs: Sequence[tuple[T, int]]) -> T:
        """One item of (item, integer weight) pairs, by weight."""
        pick = self.below(sum(w for _, w in pairs))
        for item, weight in pairs:
            if pick < weight:
                return item
            pick -= weight
        raise AssertionError("unreachable: pick < total weight")

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """k distinct elements (k <= len(seq)), in draw order."""
        pool = list(seq)
        out: list[T] = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(self.next64() % len(pool)))
        return out


def np_rng(*parts: object) -> np.random.Generator:
    """A numpy generator seeded from the parts (PCG64, stable across processes)."""
    return np.random.Generator(np.random.PCG64(stable_hash(*parts)))
