"""Raw payloads, their versions and rejection excerpts SM4-encrypted at rest (finding 5).

The columns become text (PostgreSQL: jsonb → text keeps the JSON text), then every existing value
is encrypted in place, CHUNK rows at a time by primary key (a large table is never held in
memory). Stored cleaning messages (rejection reasons, clean errors, warnings) that quoted a phone
or a party are masked the same way new ones are (clues.redact). Plain SQL, not the models: the
historical field would try to decrypt the plaintext it is about to encrypt. Rejected-records
reports already on disk are deleted (rebuilt masked on download). Reversible: the reverse
decrypts (masked messages stay masked).
"""
import json

import clues.fields
import secure.fields
from django.db import migrations

from ops.migration_operations import AlterColumnTypeOnline

CHUNK = 1000
ENCRYPTED = [("clues_rawrecord", "payload"), ("clues_rawrecordversion", "payload"),
             ("clues_rejection", "excerpt")]


def _chunks(cursor, table, columns):
    q = cursor.db.ops.quote_name
    last = 0
    while True:
        cursor.execute(f"SELECT {q('id')}, {', '.join(q(c) for c in columns)} FROM {q(table)} "
                       f"WHERE {q('id')} > %s ORDER BY {q('id')} LIMIT %s", [last, CHUNK])
        rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def _rewrite(schema_editor, table, column, change, placeholder="%s"):
    q = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        for rows in _chunks(cursor, table, [column]):
            updates = [(new, pk) for pk, old in rows for new in [change(old)] if new != old]
            if updates:
                cursor.executemany(f"UPDATE {q(table)} SET {q(column)} = {placeholder} WHERE {q('id')} = %s",
                                   updates)


def encrypt(apps, schema_editor):
    from clues import redact
    from secure import crypto

    def enc(value):
        if value in (None, "") or value.startswith(crypto.PREFIX):
            return value
        if not isinstance(value, str):  # a driver that hands JSON back decoded
            value = json.dumps(value, ensure_ascii=False)
        return crypto.encrypt(value)

    for table, column in ENCRYPTED:
        _rewrite(schema_editor, table, column, enc)
    _rewrite(schema_editor, "clues_rejection", "reason", lambda v: redact.mask_message(v or ""))
    _rewrite(schema_editor, "clues_rawrecord", "clean_error", lambda v: redact.mask_message(v or ""))

    def warnings(value):
        items = json.loads(value) if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        masked = [redact.mask_message(w) if isinstance(w, str) else w for w in items]
        return value if masked == items else json.dumps(masked, ensure_ascii=False)
    jsonb = schema_editor.connection.vendor == "postgresql"
    _rewrite(schema_editor, "clues_rawrecord", "warnings", warnings, "%s::jsonb" if jsonb else "%s")


def forget_old_reports(apps, schema_editor):
    """Rejected-records reports written before this migration hold unmasked excerpts: delete the
    files (derived data — the report is rebuilt, masked, on its next download)."""
    from pathlib import Path

    IngestBatch = apps.get_model("clues", "IngestBatch")
    for pk, report in IngestBatch.objects.exclude(report_path="").values_list("pk", "report_path").iterator():
        path = Path(report)
        if path.suffix == ".csv" and path.name.startswith("rejected-") and path.is_file():
            path.unlink()
    IngestBatch.objects.exclude(report_path="").update(report_path="")


def decrypt(apps, schema_editor):
    from secure import crypto

    def dec(value):
        if value in (None, "") or not value.startswith(crypto.PREFIX):
            return value
        return crypto.decrypt(value)

    for table, column in ENCRYPTED:
        _rewrite(schema_editor, table, column, dec)


class Migration(migrations.Migration):

    dependencies = [
        ('clues', '0009_grant_cleaning_rule_rights'),
    ]

    operations = [
        AlterColumnTypeOnline(
            model_name='rawrecord',
            name='payload',
            field=clues.fields.EncryptedJSONField(verbose_name='原始数据'),
        ),
        AlterColumnTypeOnline(
            model_name='rawrecordversion',
            name='payload',
            field=clues.fields.EncryptedJSONField(verbose_name='原始数据'),
        ),
        AlterColumnTypeOnline(
            model_name='rejection',
            name='excerpt',
            field=secure.fields.EncryptedField(blank=True, kind='text', verbose_name='原始内容（节选）'),
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.RunPython(forget_old_reports, migrations.RunPython.noop, elidable=False),
    ]
