import logging

from django.db import connection


class TenantLogFilter(logging.Filter):
    """Adds the current tenant schema to every log record as `tenant`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = getattr(connection, "schema_name", "-") or "-"
        return True
