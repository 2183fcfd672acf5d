from django.db import connection
from django_tasks import task


@task()
def report_schema() -> str:
    return connection.schema_name
