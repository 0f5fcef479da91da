"""Loads the demo company: departments, roles with their grants, users and customers.

It is a script that behaves like a service: it writes through the other apps' services where they
exist (departments, customers ...), inside one transaction per stage, and is idempotent: every
record is looked up by its natural key (department path of names, role code, username, account
name) before it is created, and each finished stage is recorded in `DemoStage`, so running it on
every `make run` costs a single query once everything is there.

Passwords: every demo user gets `DEMO_PASSWORD` ("demo1234"). The command refuses to run when
DEBUG is off unless forced, so a production deployment never gets these accounts by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import translation

from kehu.core import permissions
from kehu.core.context import acting_as
from kehu.users import services as user_services
from kehu.users.models import Department, Role, RolePermission, User

from . import data
from .models import DemoStage


@dataclass
class DemoSummary:
    created: dict[str, int] = field(default_factory=dict)
    loaded: list[str] = field(default_factory=list)  # stages run now
    skipped: list[str] = field(default_factory=list)  # stages already loaded
    unavailable: list[str] = field(default_factory=list)  # stages whose apps are not there yet

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n


@dataclass(frozen=True)
class Stage:
    key: str
    version: int
    run: Callable[[DemoSummary], None]
    available: Callable[[], bool] = lambda: True


# --- organisation: departments, roles, users ------------------------------------------------


def ensure_departments(summary: DemoSummary) -> dict[str, Department]:
    """The demo tree by name (demo department names are unique). Existing nodes are reused."""
    existing = {(d.parent_id, d.name): d for d in Department.objects.all()}
    by_name: dict[str, Department] = {}
    for name, parent_name in data.DEPARTMENTS:
        parent = by_name[parent_name] if parent_name else None
        key = (parent.pk if parent else None, name)
        dept = existing.get(key)
        if dept is None:
            dept = user_services.department_create(name=name, parent=parent, by=None)
            summary.add("departments")
        by_name[name] = dept
    return by_name


def grant_actions(grant: data.Grant) -> list[str]:
    """The actions of a grant that apply to models registered for the role editor (none for a
    model that is not there yet)."""
    managed = permissions.managed_model(grant.model)
    if managed is None:
        return []
    if grant.actions == data.ALL:
        return list(managed.actions)
    return [str(a) for a in grant.actions if str(a) in managed.actions]


def ensure_roles(summary: DemoSummary) -> dict[str, Role]:
    """Demo roles by code. A missing grant is added; an existing one keeps the scope an admin may
    have given it since (the loader never takes rights away or widens them)."""
    roles = {r.code: r for r in Role.objects.filter(code__in=[r.code for r in data.ROLES])}
    # Names in the language of the installation (LANGUAGE_CODE), like the department names.
    with translation.override(settings.LANGUAGE_CODE):
        for spec in data.ROLES:
            if spec.code in roles:
                continue
            name = str(spec.name)
            if Role.objects.filter(name__iexact=name).exists():  # a role of that name, another code
                name = f"{name} ({spec.code})"
            roles[spec.code] = user_services.role_create(
                name=name, code=spec.code, description=str(spec.description), is_admin=spec.is_admin, by=None
            )
            summary.add("roles")
    have: dict[str, list[tuple[str, str, str]]] = {code: [] for code in roles}
    for code, model, action, scope in RolePermission.objects.filter(role__in=roles.values()).values_list(
        "role__code", "model", "action", "scope"
    ):
        have[code].append((model, action, scope))
    for spec in data.ROLES:
        held = {(m, a) for m, a, _ in have[spec.code]}
        missing = [
            (g.model, action, str(g.scope))
            for g in spec.grants
            for action in grant_actions(g)
            if (g.model, action) not in held
        ]
        if missing:
            user_services.role_set_permissions(
                role=roles[spec.code], grants=have[spec.code] + missing, by=None
            )
            summary.add("role permissions", len(missing))
    return roles


def ensure_users(
    summary: DemoSummary, departments: dict[str, Department], roles: dict[str, Role]
) -> dict[str, User]:
    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    created: list[int] = []
    for spec in data.USERS:
        if spec.username in users:
            continue
        user = user_services.user_create(
            username=spec.username,
            password=None,  # set below for all of them at once
            by=None,
            email=spec.email,
            first_name=spec.first_name,
            last_name=spec.last_name,
            display_name=spec.display_name,
            department=departments[spec.department],
            roles=[roles[code] for code in spec.roles],
            language=data.DEMO_LANGUAGE,
            time_zone=data.DEMO_TIME_ZONE,
            phone=spec.phone,
            title=spec.title,
        )
        users[spec.username] = user
        created.append(user.pk)
        summary.add("users")
        for dept_name in spec.manages:
            dept = departments[dept_name]
            if dept.manager_id is None:
                departments[dept_name] = user_services.department_update(
                    department=dept, name=dept.name, manager=user, by=None
                )
    if created:
        # One hash for all: the slow password hasher runs once, not once per user. The services
        # have no "superuser" switch (Kehu's own administrators are a role); the demo admin also
        # gets Django's admin site.
        User.objects.filter(pk__in=created).update(password=make_password(data.DEMO_PASSWORD))
        superusers = [users[u.username].pk for u in data.USERS if u.superuser]
        User.objects.filter(pk__in=set(created) & set(superusers)).update(is_superuser=True, is_staff=True)
    return users


def load_org(summary: DemoSummary) -> None:
    departments = ensure_departments(summary)
    roles = ensure_roles(summary)
    ensure_users(summary, departments, roles)


# --- the stages -------------------------------------------------------------------------------


def stages() -> list[Stage]:
    from . import activity, catalog, commerce, company, customers, extras, sales, service

    return [
        # 5: the catalog grants of the demo roles; 6: quote-to-cash; 7: catalog import/export and
        # quote-to-cash export grants; 8: service (agents, the service manager, ticket grants)
        Stage("org", 8, load_org),
        Stage("customers", customers.VERSION, customers.load, customers.available),
        Stage("company", company.VERSION, company.load, customers.available),
        Stage("activities", activity.VERSION, activity.load, _installed("activities.Interaction")),
        Stage("extras", extras.VERSION, extras.load, _installed("tags.Tag", "quality.QualitySnapshot")),
        Stage("sales", sales.VERSION, sales.load, _installed("sales.Lead", "sales.Opportunity")),
        Stage("catalog", catalog.VERSION, catalog.load, _installed("catalog.Product", "catalog.PriceList")),
        Stage("commerce", commerce.VERSION, commerce.load, _installed("commerce.Quote", "sales.Opportunity")),
        Stage("service", service.VERSION, service.load, _installed("service.Ticket", "service.Queue")),
    ]


def _installed(*labels: str) -> Callable[[], bool]:
    def check() -> bool:
        from django.apps import apps

        try:
            for label in labels:
                apps.get_model(label)
        except LookupError:
            return False
        return True

    return check


def load_demo(*, refresh: bool = False, only: Collection[str] = ()) -> DemoSummary:
    """Load whatever part of the demo company is missing. `refresh` re-runs stages already
    recorded (re-creating demo records that were deleted since; never duplicating any); `only`
    limits the run to the named stages (e.g. {"org"})."""
    summary = DemoSummary()
    done = dict(DemoStage.objects.values_list("key", "version"))
    with acting_as(None, source="command"):
        for stage in stages():
            if only and stage.key not in only:
                continue
            if not refresh and done.get(stage.key, 0) >= stage.version:
                summary.skipped.append(stage.key)
                continue
            if not stage.available():
                summary.unavailable.append(stage.key)
                continue
            with transaction.atomic():
                stage.run(summary)
                DemoStage.objects.update_or_create(key=stage.key, defaults={"version": stage.version})
            summary.loaded.append(stage.key)
    if summary.loaded:
        # Stages may write in bulk (no signals): make the global search see every demo record.
        from kehu.search.services import search_rebuild

        search_rebuild()
        # ... and the duplicate check see their match keys (once: it rebuilds every key).
        from kehu.dedup.services import dedup_rebuild

        dedup_rebuild()
    return summary


def stage_keys() -> list[str]:
    return [s.key for s in stages()]


def demo_users() -> list[tuple[str, str]]:
    """(username, display name) of the demo users, for start-up banners."""
    return [(u.username, u.display_name) for u in data.USERS]


__all__ = ["DemoSummary", "demo_users", "load_demo"]
