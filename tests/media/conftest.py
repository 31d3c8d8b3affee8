"""The storage fixtures of tests/support/media.py, for the tests of both stores."""

from tests.support.media import (
    local_storage,
    media_store,
    s3_endpoint,
    s3_storage,
    storage_settings,
)

__all__ = ["local_storage", "media_store", "s3_endpoint", "s3_storage", "storage_settings"]
