from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TagsConfig(AppConfig):
    name = "kehu.tags"
    label = "tags"
    verbose_name = _("Tags")

    def ready(self) -> None:
        from kehu.audit import display as audit_display
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action

        from . import registry
        from .actions import add_detail_action
        from .models import StaticGroup, Tag, TagGroup

        # add: create tags (also by typing a new name in a tag picker); change: edit tags and tag
        # groups, merge tags; delete: delete them. Putting tags on a record needs "change" on it.
        permissions.register(
            Tag, actions=(Action.ADD, Action.CHANGE, Action.DELETE), group=_("Administration")
        )

        audit_registry.register(Tag)
        audit_registry.register(TagGroup)
        audit_registry.register(StaticGroup)
        # History shows "tags" (标签) in the viewer's language, not the raw recorded name.
        from .display import audit_field_label

        if audit_field_label not in audit_display.extra_field_labels:
            audit_display.extra_field_labels.append(audit_field_label)

        navigation.register_item(
            "settings",
            navigation.MenuItem(_("Tags"), "tags:tag_list", icon="tags", requires=("tags.tag", "change")),
        )
        navigation.register_item(
            "customers",
            navigation.MenuItem(_("Static groups"), "tags:group_list", icon="list-check"),
        )

        registry.on_register(add_detail_action)

        # Tags are read per process (selectors.all_tags): any write replaces the configuration token.
        from django.db.models.signals import post_delete, post_save

        from kehu.core import confcache

        def forget_tags(**kwargs: object) -> None:
            confcache.bump()

        # weak=False: the receiver is a local function, gone after ready() with a weak reference.
        for model in (Tag, TagGroup):
            name = model.__name__
            post_save.connect(forget_tags, sender=model, weak=False, dispatch_uid=f"kehu-tags-save-{name}")
            post_delete.connect(forget_tags, sender=model, weak=False, dispatch_uid=f"kehu-tags-del-{name}")
