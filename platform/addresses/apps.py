from django.apps import AppConfig


class AddressesConfig(AppConfig):
    name = "addresses"
    verbose_name = "统一地址库"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from addresses import matching
        from addresses.models import StandardAddress
        from orgs.models import Region

        # any change of the library or the region tree makes this process's matchers reload
        for model in (StandardAddress, Region):
            for signal, name in ((post_save, "save"), (post_delete, "delete")):
                signal.connect(matching.invalidate, sender=model,
                               dispatch_uid=f"addresses-invalidate-{name}-{model.__name__}")
