"""The cache layer (kernel): one interface over an in-process or a Redis backend.

It holds the explorer's catalogs, the assistant's schema indexes, the role verdicts of the read
path and, when `result_cache_enabled`, results of read-only queries (`results`). Invalidation
reaches every instance through LISTEN/NOTIFY on the metadata store, or Redis pub/sub when Redis is
the backend; messages carry only "drop X", never data.
"""

from __future__ import annotations

from petcare_dba.services.cache import results
from petcare_dba.services.cache.layer import KINDS, Cache, Generation, Health, open_cache

__all__ = ["KINDS", "Cache", "Generation", "Health", "open_cache", "results"]
