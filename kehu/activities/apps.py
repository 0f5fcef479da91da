from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kehu.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from kehu.audit import events
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action
        from kehu.core.owned import OwnerCascade, register_owner_cascade
        from kehu.customfields import registry as customfields_registry

        from . import exporting, panels, reminders
        from .models import Interaction, Task
        from .services import account_open_tasks_reassign

        actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT, Action.ASSIGN)
        permissions.register(Interaction, actions=actions, group=_("Activities"))
        permissions.register(Task, actions=actions, group=_("Activities"))

        audit_registry.register(Interaction, parent="account")
        audit_registry.register(Task, parent="account")
        customfields_registry.register(Interaction)

        events.register_event("interaction.logged", _("Interaction logged"), icon="message-circle")
        events.register_event("task.created", _("Task created"), icon="checkbox")
        events.register_event("task.completed", _("Task completed"), icon="circle-check")

        register_owner_cascade(
            "customers.account",
            OwnerCascade("activities.open_tasks", _("Open tasks"), account_open_tasks_reassign),
        )

        exporting.register()
        reminders.register()
        from kehu.notifications.sections import register_section

        from .views_preferences import reminder_defaults_card

        register_section("activities.reminder_defaults", reminder_defaults_card, order=10)
        panels.register()
        panels.register_sales()
        from kehu.sales.services.leads import on_converted

        from .services import lead_converted

        on_converted(lead_converted)

        navigation.register_group("activities", _("Activities"), icon="calendar-event", order=20)
        for label, url_name, icon, model in (
            (_("My day"), "activities:my_day", "sun", "activities.task"),
            (_("Calendar"), "activities:calendar", "calendar-month", "activities.task"),
            (_("Tasks"), "activities:task_list", "checkbox", "activities.task"),
            (_("Interactions"), "activities:interaction_list", "message-circle", "activities.interaction"),
            (_("Team tasks"), "activities:team", "users", "activities.task"),
        ):
            navigation.register_item(
                "activities", navigation.MenuItem(label, url_name, icon=icon, requires=(model, Action.VIEW))
            )

        # Merging duplicates (kehu.dedup.merging) re-points activities to the kept record.
        from kehu.dedup.merging import register_merge_relation

        for activity in (Interaction, Task):
            register_merge_relation("customers.account", activity, "account")
            register_merge_relation("customers.contact", activity, "contact")
            register_merge_relation("sales.lead", activity, "lead")
        register_merge_relation("customers.contact", Interaction.participant_contacts.through, "contact")
