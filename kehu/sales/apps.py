from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        self._connect_cache_invalidation()
        from kehu.imports.mapping import register_sales_targets

        # the importable fields of leads and opportunities (kehu.imports, issue 6), imported row by
        # row through their services
        register_sales_targets()
        from kehu.imports.rowwise import register_row_services

        from .services.leads import lead_create, lead_update
        from .services.opportunities import opportunity_create, opportunity_update

        register_row_services("sales.lead", create=lead_create, update=lead_update)
        register_row_services("sales.opportunity", create=opportunity_create, update=opportunity_update)
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action
        from kehu.customfields import registry as customfields_registry
        from kehu.tags import registry as tags_registry

        from .choices import (
            LEAD_PICKLIST_FIELDS,
            LEAD_RESTRICTABLE_FIELDS,
            OPPORTUNITY_CONTACT_ROLE_PICKLIST,
            OPPORTUNITY_PICKLIST_FIELDS,
            OPPORTUNITY_RESTRICTABLE_FIELDS,
        )
        from .models import (
            AssignmentRule,
            Lead,
            Opportunity,
            OpportunityContactRole,
            OpportunityTeamMember,
            Pipeline,
            Pool,
            Target,
        )
        from .selectors.pools import account_pool_scope_q, pool_scope_q

        group = _("Sales")
        owned_actions = (
            Action.VIEW,
            Action.ADD,
            Action.CHANGE,
            Action.DELETE,
            Action.EXPORT,
            Action.IMPORT,
            Action.ASSIGN,
        )
        permissions.register(Lead, actions=owned_actions, group=group, fields=LEAD_RESTRICTABLE_FIELDS)
        permissions.register(
            Opportunity, actions=owned_actions, group=group, fields=OPPORTUNITY_RESTRICTABLE_FIELDS
        )
        config_actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
        for config_model in (Pool, AssignmentRule, Pipeline):
            permissions.register(config_model, actions=config_actions, group=group)
        permissions.register(Target, actions=(*config_actions, Action.EXPORT), group=group)

        # Pool members see the unowned records of their pools (公海).
        permissions.register_scope_extension("sales.lead", pool_scope_q)
        permissions.register_scope_extension("customers.account", account_pool_scope_q)

        audit_registry.register(Lead)
        audit_registry.register(Opportunity, parent="account")
        audit_registry.register(OpportunityContactRole, parent="opportunity")
        audit_registry.register(OpportunityTeamMember, parent="opportunity")
        for config in (Pool, AssignmentRule, Pipeline, Target):
            audit_registry.register(config)

        customfields_registry.register(Lead)
        customfields_registry.register(Opportunity)
        tags_registry.register_taggable(Lead)
        tags_registry.register_taggable(Opportunity)
        for field_name, code in LEAD_PICKLIST_FIELDS.items():
            customfields_registry.register_picklist_usage(Lead, field_name, code)
        for field_name, code in OPPORTUNITY_PICKLIST_FIELDS.items():
            customfields_registry.register_picklist_usage(Opportunity, field_name, code)
        customfields_registry.register_picklist_usage(
            OpportunityContactRole, "role", OPPORTUNITY_CONTACT_ROLE_PICKLIST
        )

        navigation.register_group("sales", group, icon="target-arrow", order=15)
        # Each area registers its menu items, events, search providers, panels and jobs in its own
        # `register()` (kehu/sales/hooks/<area>.py).
        from . import hooks

        hooks.register_all()

        # Leads and opportunities have a Timeline tab (their events and field changes).
        from kehu.audit import timeline as audit_timeline

        audit_timeline.register_timeline_model("sales.lead")
        audit_timeline.register_timeline_model("sales.opportunity")

        # Merging duplicates (kehu.dedup.merging) re-points what sales owns to the kept record.
        from kehu.dedup.merging import register_merge_hook, register_merge_relation

        from .models import PoolHistory, PoolItem

        for merged_label, related, fk in (
            ("customers.account", Opportunity, "account"),
            ("customers.account", Lead, "converted_account"),
            ("customers.account", PoolItem, "account"),
            ("customers.account", PoolHistory, "account"),
            ("customers.contact", Lead, "converted_contact"),
            ("sales.lead", Opportunity, "lead"),
            ("sales.lead", PoolItem, "lead"),
            ("sales.lead", PoolHistory, "lead"),
        ):
            register_merge_relation(merged_label, related, fk)
        # Both contacts on one opportunity: the survivor's role row stays, taking the merged one's
        # "primary" flag and its role when the survivor's is empty.
        register_merge_relation("customers.contact", OpportunityContactRole, "contact", fill=("role",))
        for merged_label, fk in (("customers.account", "account"), ("sales.lead", "lead")):
            register_merge_hook(merged_label, _pool_item_follows_owner(fk))

    @staticmethod
    def _connect_cache_invalidation() -> None:
        """Pool membership (`selectors.pools.member_pool_ids`), pipelines and stages
        (`selectors.opportunities.pipeline_config`) are kept per process under the configuration
        token: a change of a pool or its members, of a pipeline or a stage replaces it."""
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kehu.core import confcache

        from .models import Pipeline, Pool, Stage

        def pools_changed(sender: Any, **kwargs: Any) -> None:
            if kwargs.get("action", "post_").startswith("post_"):
                confcache.bump()

        for signal in (post_save, post_delete):
            for model in (Pool, Pipeline, Stage):
                signal.connect(pools_changed, sender=model, weak=False)
        for field in ("member_users", "member_departments", "admins"):
            m2m_changed.connect(pools_changed, sender=getattr(Pool, field).through, weak=False)


def _pool_item_follows_owner(fk: str) -> Any:
    """After a merge the kept record's pool record (maybe moved from a merged one) says "in the
    pool" exactly when the record has no owner."""

    def hook(*, master: Any, merged_ids: list[int], by: Any) -> None:
        from .models import PoolItem

        in_pool = master.owner_id is None
        PoolItem.objects.filter(**{fk: master.pk}).exclude(in_pool=in_pool).update(in_pool=in_pool)

    return hook
