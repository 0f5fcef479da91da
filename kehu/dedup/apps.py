from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "kehu.dedup"
    label = "dedup"
    verbose_name = _("Duplicates")

    def ready(self) -> None:
        from kehu.audit import registry as audit_registry
        from kehu.core import checks, navigation
        from kehu.core.forms import register_error_presenter
        from kehu.core.jobkinds import register_job_kind
        from kehu.customers.choices import AccountKind
        from kehu.customers.models import Account, Contact

        from . import services
        from .errors import CollisionError
        from .forms import show_collisions
        from .models import CollisionPolicy
        from .registry import register_keys

        # Match keys of accounts and contacts (leads are registered by the sales app).
        register_keys(
            Account,
            fields={
                "tax_number": ("tax_number",),
                "phone": ("phone", "phones.number"),
                "email": ("email", "emails.email"),
                "company": ("name",),
            },
            # A person account's name is a person's name, not a company.
            when={"company": lambda values: values.get("kind") != AccountKind.PERSON},
            related={"customers.accountphone": "account_id", "customers.accountemail": "account_id"},
            watch=("kind",),
        )
        register_keys(
            Contact,
            fields={"phone": ("phone", "mobile", "phones.number"), "email": ("email", "emails.email")},
            related={"customers.contactphone": "contact_id", "customers.contactemail": "contact_id"},
        )
        # The customers services run the collision check on every create and edit.
        for label in ("customers.account", "customers.contact"):
            checks.register_write_check(label, services.collision_enforce, key="dedup.collision")

        # The API documents the collision answer (409 with the matches) and `confirm_collisions` on
        # the create and edit operations (leads: the sales service runs the check itself).
        from kehu.core.api.schema import register_write_conflict

        from .api.serializers import CollisionConfirmSerializer, CollisionErrorSerializer

        for label in ("customers.account", "customers.contact", "sales.lead"):
            register_write_conflict(
                label,
                response=CollisionErrorSerializer,
                description="A collision (code “collision”): the matching records, and under the "
                "“warn” policy `confirm_field` to send as true to save anyway.",
                confirm=CollisionConfirmSerializer,
            )

        # Forms show a collision as the list of matches with a "save anyway" checkbox.
        register_error_presenter(CollisionError.code, show_collisions)

        audit_registry.register(CollisionPolicy, exclude=("updated_at", "updated_by"))
        register_job_kind(services.JOB_KIND, _("Rebuild the match keys"))
        navigation.register_item(
            "settings",
            navigation.MenuItem(_("Collision check"), "dedup:policies", icon="copy-check", admin_only=True),
        )

        # Duplicate scans (issue 6): the review queue for everyone who sees accounts (scoped to
        # the records they may view), the match rules for administrators.
        from . import merging, scanning

        register_job_kind(scanning.JOB_KIND, _("Duplicate scan"))
        navigation.register_item(
            "customers",
            navigation.MenuItem(
                _("Duplicates"), "dedup:queue", icon="users-minus", requires=("customers.account", "view")
            ),
        )
        navigation.register_item(
            "settings",
            navigation.MenuItem(_("Duplicate rules"), "dedup:rules", icon="adjustments", admin_only=True),
        )
        # what points at accounts and contacts moves to the kept record on a merge (customers
        # may not import dedup: its relations are registered here)
        merging.register_builtin_relations()
        # the page of a merged record leads to the record it was merged into
        from kehu.core.generic import register_moved_resolver

        register_moved_resolver(merging.merged_into)
