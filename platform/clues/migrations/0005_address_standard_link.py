"""Fill the new address_standard links from what ingest stored (see 0004). A migration of its
own: on PostgreSQL the updates leave deferred foreign-key checks that must be committed before
0006 alters the table."""
from django.db import migrations


def link_standard_addresses(apps, schema_editor):
    Clue = apps.get_model("clues", "Clue")
    RawRecord = apps.get_model("clues", "RawRecord")
    StandardAddress = apps.get_model("addresses", "StandardAddress")
    known = set(StandardAddress.objects.values_list("pk", flat=True))
    by_text = {}
    for clue in Clue.objects.exclude(address_standard_text="").only("pk", "extra", "address_standard_text",
                                                                   "raw_id").iterator(chunk_size=2000):
        pk = (clue.extra or {}).get("address_standard_id")
        if pk not in known:
            text = clue.address_standard_text
            if text not in by_text:
                by_text[text] = StandardAddress.objects.filter(text=text).values_list("pk", flat=True).first()
            pk = by_text[text]
        if pk:
            Clue.objects.filter(pk=clue.pk).update(address_standard_id=pk)
            RawRecord.objects.filter(pk=clue.raw_id).update(address_standard_id=pk)
    for raw in RawRecord.objects.filter(case__isnull=False).select_related("case").only(
            "pk", "case__extra").iterator(chunk_size=2000):
        pk = ((raw.case.extra or {}).get("aggregation") or {}).get("address_standard_id")
        if pk in known:
            RawRecord.objects.filter(pk=raw.pk).update(address_standard_id=pk)


class Migration(migrations.Migration):

    dependencies = [("clues", "0004_address_standard_fk")]

    operations = [migrations.RunPython(link_standard_addresses, migrations.RunPython.noop)]
