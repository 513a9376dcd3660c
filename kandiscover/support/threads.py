"""One thread limit for a whole computation: torch's intra-op threads and BLAS (numpy, scipy)."""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional

__all__ = ["thread_limit"]


@contextlib.contextmanager
def thread_limit(threads: Optional[int]) -> Iterator[None]:
    """Run the block with at most ``threads`` torch and BLAS threads, restored afterwards.

    Small KANs and least-squares problems run fastest on one thread; several threads on tiny
    matrices mostly wait on each other. ``None`` leaves both settings alone.
    """
    if threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)
