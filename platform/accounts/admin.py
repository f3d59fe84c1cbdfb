from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "region", "organization", "is_active", "roles"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username", "display_name"]
    list_select_related = ["region", "organization"]
    autocomplete_fields = ["region", "organization"]
    fieldsets = BaseUserAdmin.fieldsets + (("所属", {"fields": ["display_name", "mobile", "region", "organization"]}),)

    @admin.display(description="角色")
    def roles(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
