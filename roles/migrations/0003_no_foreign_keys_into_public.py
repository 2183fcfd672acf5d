"""Drop the foreign keys from this tenant schema into the public schema (decision 0026).

They are mostly keys to the shared `accounts_user` (ours and Wagtail's); each added two triggers
to that one table per tenant. Lives in `roles`, the tenant app about shared accounts' place in a
tenant. Later keys are dropped after every schema's migrations (tenants.shared_references).
"""

from django.db import migrations


def drop_keys_into_public(apps, schema_editor):
    from tenants.shared_references import drop_keys_into_public as drop

    drop(schema_editor.connection.schema_name)


class Migration(migrations.Migration):
    dependencies = [("roles", "0002_alter_membership_options_invitation")]

    operations = [migrations.RunPython(drop_keys_into_public, migrations.RunPython.noop)]
