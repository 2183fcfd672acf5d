"""The platform's database backend: django-tenants' PostgreSQL backend plus a bounded,
process-wide connection pool for the web server (decision 0010).

Settings: ``ENGINE = "core.database"``.
"""
