"""What the demo company is made of: departments, roles and their grants, users.

Later issues extend the grants of `ROLES` with their models (sales.lead, service.ticket, ...) and add a stage
to the loader; grants on models that are not installed yet are skipped, so this table may name
them before they exist. Bump the stage's version (`stages()` in loader.py) when a change should
reach databases that were loaded before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action, Scope

DEMO_PASSWORD = "demo1234"
DEMO_EMAIL_DOMAIN = "demo.kehu.local"
DEMO_LANGUAGE = "zh-hans"
DEMO_TIME_ZONE = "Asia/Shanghai"
# Seed of the demo's customer data: the same accounts and contacts on every machine.
DEMO_SEED = 20260101

# Every action a model registers for the role editor (see kehu.core.permissions.register).
ALL = "*"

# (name, parent name or None). Parents come before their children.
DEPARTMENTS: list[tuple[str, str | None]] = [
    ("总部", None),
    ("销售部", "总部"),
    ("华北区", "销售部"),
    ("华东区", "销售部"),
    ("客服部", "总部"),
    ("市场部", "总部"),
]


@dataclass(frozen=True)
class Grant:
    model: str  # "app_label.model_name"
    actions: tuple[str, ...] | str  # ALL: every action the model registers
    scope: str


@dataclass(frozen=True)
class DemoRole:
    code: str
    name: str | Promise
    description: str | Promise = ""
    is_admin: bool = False
    grants: tuple[Grant, ...] = ()


CUSTOMER_MODELS = ("customers.account", "customers.contact")
ACTIVITY_MODELS = ("activities.interaction", "activities.task")
SALES_MODELS = ("sales.lead", "sales.opportunity")
# Sales configuration (pools, assignment rules, pipelines) is the administrators' (the admin role
# may do everything); pool members see and claim the records of their pools without a grant.
# The catalog (issue 7): every sales role reads it; managers and the director also keep products
# and price lists up to date (importing and exporting them too). Categories and currencies are
# the administrators'.
CATALOG_MODELS = ("catalog.product", "catalog.pricelist", "catalog.productcategory", "catalog.currency")
CATALOG_EDITED = ("catalog.product", "catalog.pricelist")
# Quote-to-cash (issue 7): the sales roles work on the documents of their scope; approval rules and
# order statuses are the administrators' (everyone else reads them). Instalments are read-only.
COMMERCE_DOCS = (
    "commerce.quote",
    "commerce.contract",
    "commerce.order",
    "commerce.paymentplan",
    "commerce.payment",
    "commerce.invoice",
)
COMMERCE_SETTINGS = ("commerce.approvalrule", "commerce.orderstatus")
# Service (issue 8): agents work the tickets of their queues (membership) and their own; the service
# manager everything of the service desk; sales roles read the tickets of the customers they see
# (the account extension of the ticket scope) and the knowledge base.
SERVICE_SETUP = (
    "service.queue",
    "service.tickettype",
    "service.ticketstatus",
    "service.ticketcategory",
    "service.slapolicy",
    "service.businesscalendar",
    "service.survey",
    "service.churnrule",
    "service.articlecategory",
)
SERVICE_WORK = ("service.ticket", "service.article", "service.cannedresponse")
SERVICE_READ = (
    Grant("service.ticket", ("view",), "own"),
    Grant("service.article", ("view",), "all"),
    Grant("service.surveyresponse", ("view",), "all"),
)


def _on(models: tuple[str, ...], actions: tuple[str, ...] | str, scope: str) -> tuple[Grant, ...]:
    return tuple(Grant(m, actions, scope) for m in models)


ROLES: list[DemoRole] = [
    DemoRole(
        "admin",
        _("System administrator"),
        _("Everything, including users, roles and settings."),
        is_admin=True,
    ),
    DemoRole(
        "director",
        _("Sales director"),
        _("All actions on all sales data."),
        grants=(
            *_on(CUSTOMER_MODELS + ACTIVITY_MODELS, ALL, Scope.ALL),
            Grant("quality.qualitysnapshot", ALL, Scope.ALL),
            # Sales: the sales department and below (the director sits in 销售部).
            *_on(SALES_MODELS, ALL, Scope.DEPARTMENT_AND_BELOW),
            Grant("sales.target", ALL, Scope.DEPARTMENT_AND_BELOW),
            *_on(CATALOG_MODELS, (Action.VIEW,), Scope.ALL),
            *_on(CATALOG_EDITED, (Action.ADD, Action.CHANGE, Action.IMPORT, Action.EXPORT), Scope.ALL),
            *_on(COMMERCE_DOCS, ALL, Scope.DEPARTMENT_AND_BELOW),
            Grant("commerce.instalment", (Action.VIEW, Action.EXPORT), Scope.DEPARTMENT_AND_BELOW),
            *_on(COMMERCE_SETTINGS, (Action.VIEW,), Scope.ALL),
            *SERVICE_READ,
            Grant("service.accountrisk", (Action.VIEW, Action.CHANGE), Scope.ALL),
        ),
    ),
    DemoRole(
        "manager",
        _("Sales manager"),
        _("All actions on the data of their department and its sub-departments."),
        grants=(
            *_on(CUSTOMER_MODELS + ACTIVITY_MODELS, ALL, Scope.DEPARTMENT_AND_BELOW),
            Grant("quality.qualitysnapshot", ALL, Scope.ALL),
            # Sales: their department's leads and deals, assigning included; its targets.
            *_on(
                SALES_MODELS,
                (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT, Action.ASSIGN),
                Scope.DEPARTMENT,
            ),
            Grant("sales.target", (Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT), Scope.DEPARTMENT),
            *_on(CATALOG_MODELS, (Action.VIEW,), Scope.ALL),
            *_on(CATALOG_EDITED, (Action.ADD, Action.CHANGE, Action.IMPORT, Action.EXPORT), Scope.ALL),
            *_on(COMMERCE_DOCS, ALL, Scope.DEPARTMENT),
            Grant("commerce.instalment", (Action.VIEW, Action.EXPORT), Scope.DEPARTMENT),
            *_on(COMMERCE_SETTINGS, (Action.VIEW,), Scope.ALL),
            *SERVICE_READ,
            Grant("service.accountrisk", (Action.VIEW, Action.CHANGE), Scope.ALL),
        ),
    ),
    DemoRole(
        "rep",
        _("Sales rep"),
        _("Their own customers only."),
        grants=(
            *_on(
                CUSTOMER_MODELS + ACTIVITY_MODELS,
                (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT),
                Scope.OWN,
            ),
            # Their own leads and deals; pools through membership (华北线索池, 全国线索池, 客户公海).
            *_on(SALES_MODELS, (Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT), Scope.OWN),
            Grant("sales.target", (Action.VIEW,), Scope.OWN),
            *_on(CATALOG_MODELS, (Action.VIEW,), Scope.ALL),
            *_on(COMMERCE_DOCS, (Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT), Scope.OWN),
            Grant("commerce.instalment", (Action.VIEW, Action.EXPORT), Scope.OWN),
            *_on(COMMERCE_SETTINGS, (Action.VIEW,), Scope.ALL),
            *SERVICE_READ,
            Grant("service.accountrisk", (Action.VIEW, Action.CHANGE), Scope.ALL),
        ),
    ),
    DemoRole(
        "agent",
        _("Service agent"),
        _("Looks up every customer and keeps contact details up to date; deletes nothing."),
        grants=(
            Grant("customers.account", (Action.VIEW,), Scope.ALL),
            Grant("customers.contact", (Action.VIEW, Action.ADD, Action.CHANGE), Scope.ALL),
            Grant("activities.interaction", (Action.VIEW, Action.ADD), Scope.ALL),
            Grant("activities.task", (Action.VIEW, Action.ADD, Action.CHANGE), Scope.OWN),
            Grant("service.ticket", (Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT), Scope.OWN),
            Grant("service.article", (Action.VIEW, Action.ADD, Action.CHANGE), Scope.ALL),
            Grant("service.cannedresponse", (Action.VIEW, Action.ADD, Action.CHANGE), Scope.ALL),
            Grant("service.survey", (Action.VIEW,), Scope.ALL),
            Grant("service.surveyresponse", (Action.VIEW,), Scope.ALL),
            *_on(SERVICE_SETUP, (Action.VIEW,), Scope.ALL),
        ),
    ),
    DemoRole(
        "service_manager",
        _("Service manager"),
        _("Runs the service desk: every ticket, queues, SLA policies, knowledge base, surveys."),
        grants=(
            Grant("customers.account", (Action.VIEW,), Scope.ALL),
            Grant("customers.contact", (Action.VIEW, Action.ADD, Action.CHANGE), Scope.ALL),
            *_on(ACTIVITY_MODELS, (Action.VIEW, Action.ADD, Action.CHANGE), Scope.ALL),
            *_on(SERVICE_WORK, ALL, Scope.ALL),
            *_on(SERVICE_SETUP, ALL, Scope.ALL),
            Grant("service.surveyresponse", ALL, Scope.ALL),
            Grant("service.accountrisk", ALL, Scope.ALL),
            Grant("commerce.order", (Action.VIEW,), Scope.ALL),
            *_on(CATALOG_MODELS, (Action.VIEW,), Scope.ALL),
        ),
    ),
    DemoRole(
        "marketer",
        _("Marketer"),
        _("Views and exports every customer for campaigns."),
        grants=(
            *_on(CUSTOMER_MODELS, (Action.VIEW, Action.EXPORT), Scope.ALL),
            Grant("activities.interaction", (Action.VIEW,), Scope.ALL),
            Grant("quality.qualitysnapshot", ALL, Scope.ALL),
        ),
    ),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    department: str
    roles: tuple[str, ...]
    title: str = ""
    superuser: bool = False
    manages: tuple[str, ...] = ()  # departments whose manager this user is
    phone: str = ""

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"

    @property
    def last_name(self) -> str:
        return self.display_name[:1]

    @property
    def first_name(self) -> str:
        return self.display_name[1:]


USERS: list[DemoUser] = [
    DemoUser("admin", "赵敏", "总部", ("admin",), "系统管理员", superuser=True, phone="+8613800000001"),
    DemoUser(
        "director", "李强", "销售部", ("director",), "销售总监", manages=("销售部",), phone="+8613800000002"
    ),
    DemoUser(
        "manager1",
        "张伟",
        "华北区",
        ("manager",),
        "华北区销售经理",
        manages=("华北区",),
        phone="+8613900000011",
    ),
    DemoUser(
        "manager2",
        "陈静",
        "华东区",
        ("manager",),
        "华东区销售经理",
        manages=("华东区",),
        phone="+8613900000012",
    ),
    DemoUser("rep1", "王芳", "华北区", ("rep",), "销售代表", phone="+8615000000101"),
    DemoUser("rep2", "刘洋", "华北区", ("rep",), "销售代表", phone="+8615000000102"),
    DemoUser("rep3", "杨帆", "华东区", ("rep",), "销售代表", phone="+8615000000103"),
    DemoUser("rep4", "黄丽", "华东区", ("rep",), "销售代表", phone="+8615000000104"),
    DemoUser(
        "svcmanager",
        "孙丽",
        "客服部",
        ("service_manager",),
        "客服经理",
        manages=("客服部",),
        phone="+8618600000200",
    ),
    DemoUser("agent1", "周敏", "客服部", ("agent",), "客服专员", phone="+8618600000201"),
    DemoUser("agent2", "郑洁", "客服部", ("agent",), "客服专员", phone="+8618600000202"),
    DemoUser("marketer1", "吴磊", "市场部", ("marketer",), "市场专员", phone="+8618600000301"),
]

# Who owns the demo customers: the reps, evenly.
ACCOUNT_OWNERS = ("rep1", "rep2", "rep3", "rep4")
DEMO_ACCOUNTS = 60
DEMO_CONTACTS_PER_ACCOUNT = 2
