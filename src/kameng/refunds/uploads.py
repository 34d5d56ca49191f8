"""Evidence uploads are checked by content; the checker lives in `evidence.uploads` so that the
orders app (custom-service deliveries) uses the same one."""

from kameng.evidence.uploads import ALLOWED, MAX_FILE_BYTES, MAX_FILES, UploadError, inspect

__all__ = ["ALLOWED", "MAX_FILES", "MAX_FILE_BYTES", "UploadError", "inspect"]
