from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    REVEAL = "reveal", _("Revealed")


class ChangeSource(models.TextChoices):
    """Where a change came from (taken from `kehu.core.context.current().source`)."""

    WEB = "web", _("Web")
    API = "api", _("API")
    TASK = "task", _("Background task")
    COMMAND = "command", _("Command")
    IMPORT = "import", _("Import")


# Badge colours (Tabler) per action, for templates.
ACTION_BADGES = {
    ChangeAction.CREATE: "green",
    ChangeAction.UPDATE: "blue",
    ChangeAction.DELETE: "red",
    ChangeAction.EXPORT: "purple",
    ChangeAction.REVEAL: "orange",
}
