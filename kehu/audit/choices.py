from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChangeAction(models.TextChoices):
    CREATE = "create", pgettext_lazy("audit action", "Created")
    UPDATE = "update", pgettext_lazy("audit action", "Updated")
    DELETE = "delete", pgettext_lazy("audit action", "Deleted")
    EXPORT = "export", pgettext_lazy("audit action", "Exported")
    REVEAL = "reveal", pgettext_lazy("audit action", "Revealed")


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
