"""Django admin (superusers only) for custom fields and picklists; admins use /settings/custom-fields/."""

from django.contrib import admin

from .models import CustomField, Picklist, PicklistItem


class PicklistItemInline(admin.TabularInline):
    model = PicklistItem
    extra = 0
    fields = ["order", "value", "label", "label_en", "color", "is_active"]


@admin.register(Picklist)
class PicklistAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_system"]
    search_fields = ["code", "name", "name_en"]
    inlines = [PicklistItemInline]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["model", "name", "label", "label_en", "type", "required", "is_active", "order"]
    list_filter = ["model", "type", "is_active"]
    search_fields = ["name", "label", "label_en"]
    readonly_fields = ["model", "name"]
