"""How long to wait before retrying a failed send."""

# Past this exponent the ceiling is the cap for any sane base; it also keeps 2**n finite.
_MAX_EXPONENT = 1000


def backoff_seconds(attempt: int, *, jitter: float, base: float = 2.0, cap: float = 300.0) -> float:
    """Delay before the next try after `attempt` failed tries (1 after the first failure).

    Exponential backoff with full jitter: a point `jitter` in [0, 1) of the way up to
    min(cap, base * 2**(attempt - 1)). The caller draws `jitter` (random.random()), which
    keeps this function pure; full jitter spreads retries of many mails that failed together.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return jitter * ceiling
