from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The record types the sidebar's Imports entry is for (import targets are registered by the apps
# that own them, some above this one; the entry asks for the "import" permission on any of them).
IMPORT_TARGETS = ("customers.account", "customers.contact", "sales.lead", "sales.opportunity")

# The kind of the background jobs of `running.py` (dry run, run and undo: its title says which).
JOB_KINDS = {"import": _("Import")}


class ImportsConfig(AppConfig):
    """Data import (导入): reading CSV, TSV, XLSX and vCard files, mapping and transforming their
    columns, dry runs, background runs in batches, error files and undo."""

    name = "kehu.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action
        from kehu.core.jobkinds import register_job_kind

        from .models import ImportJob

        # Whoever imports sees their own imports; a role may grant seeing (view) and undoing
        # (change) other people's, within a data scope.
        permissions.register(ImportJob, actions=(Action.VIEW, Action.CHANGE), group=_("Administration"))
        # Who uploaded which file, and every change of its mapping and options, in the operation
        # log (the rows an import writes are audited by the engine, in bulk).
        audit_registry.register(
            ImportJob,
            exclude=("headers", "options", "row_estimate", "dry_run", "result", "rows_done", "sha256"),
        )
        for kind, label in JOB_KINDS.items():
            register_job_kind(kind, label)
        # Whoever may import some record type, or see other people's imports through a role (the
        # list page answers anyone signed in: it shows their own imports).
        navigation.register_item(
            "customers",
            navigation.MenuItem(
                _("Imports"),
                "imports:list",
                icon="file-import",
                requires_any=(
                    *((label, Action.IMPORT) for label in IMPORT_TARGETS),
                    ("imports.importjob", Action.VIEW),
                ),
            ),
        )
