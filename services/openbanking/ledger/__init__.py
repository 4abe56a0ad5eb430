"""The system-of-record copy (PostgreSQL): models, migrations, reads, the Redis cache and synthetic data.

Other services read it through the small functions exported here, e.g. PIS funds confirmation calls
:func:`available_balance`.
"""

from .queries import available_balance

__all__ = ["available_balance"]
