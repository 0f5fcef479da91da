"""The permission matrix: run a model's views and API endpoints as every kind of user and assert
both the answers and that refused calls changed nothing.

Used with the root ``company`` fixture (总部 → 销售部 → 华北区 / 华东区)::

    matrix = PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory(owner=owner),
        endpoints=[
            Endpoint("html list", "get", lambda o: "/customers/accounts/", Action.VIEW, on="list"),
            Endpoint("html detail", "get", lambda o: o.get_absolute_url(), Action.VIEW),
            Endpoint("api update", "patch", lambda o: f"/api/v1/customers/accounts/{o.pk}/", Action.CHANGE,
                     api=True, data=lambda o: {"name": "Changed"}, writes=True),
            ...
        ],
    )
    matrix.run(company, client)

Scenarios (each actor's role gets every action in `actions` on the model with the scope):

================  ===========  ====================  =========================================
scenario          actor        scope                 records visible (owners)
================  ===========  ====================  =========================================
anonymous         —            —                     none (HTML: redirect to login; API: 401/403)
no permission     nobody       —                     none (lists/create: 403; records: 404)
own               rep1         own                   rep1's
department        manager1     department (华北区)    rep1's, rep2's
dept. and below   director     department and below  rep1's, rep2's, rep3's (华东区)
all               viewer_all   all                   everyone's, incl. viewer_all's (总部)
================  ===========  ====================  =========================================

For every scenario and endpoint, a fresh record is made for each owner (rep1, rep2, rep3,
viewer_all; one owner for anonymous and no permission, where every record answers alike).
Record endpoints must answer a success status inside the scope and 404 outside it; list
endpoints must list exactly the visible ones among those records; writes must change the
database when allowed (created row, changed snapshot, deleted row) and leave it untouched when
refused. All mismatches are collected and reported together.

Core does not import the users app: grants are written through ``apps.get_model`` (or a `grant`
callable you pass).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.forms.models import model_to_dict

from .choices import Action, Scope

OWNERS = ("rep1", "rep2", "rep3", "viewer_all")


@dataclass(frozen=True)
class Scenario:
    name: str
    actor: str | None  # attribute of the company fixture
    role: str | None  # attribute of the company fixture
    scope: str | None
    visible: frozenset[str]


SCENARIOS = (
    Scenario("anonymous", None, None, None, frozenset()),
    Scenario("no permission", "nobody", "role_none", None, frozenset()),
    Scenario("own", "rep1", "role_rep", Scope.OWN, frozenset({"rep1"})),
    Scenario("department", "manager1", "role_manager", Scope.DEPARTMENT, frozenset({"rep1", "rep2"})),
    Scenario(
        "department and below",
        "director",
        "role_director",
        Scope.DEPARTMENT_AND_BELOW,
        frozenset({"rep1", "rep2", "rep3"}),
    ),
    Scenario("all", "viewer_all", "role_all", Scope.ALL, frozenset(OWNERS)),
)


@dataclass
class Endpoint:
    """One view or API operation.

    * `url(record)`: the URL; `record` is the target record (for "list"/"create" endpoints a record
      owned by the actor, useful for related ids).
    * `on`: "object" (acts on `record`: 404 outside scope), "list" (lists records) or "create".
    * `data(record)`: the body for writes (form data for HTML, JSON for the API).
    * `writes`: a success must change the database, a refusal must not.
    * `ok`: the success statuses.
    """

    name: str
    method: str
    url: Callable[[Any], str]
    action: str
    on: str = "object"
    api: bool = False
    data: Callable[[Any], dict[str, Any]] | None = None
    writes: bool = False
    ok: tuple[int, ...] = (200,)
    htmx: bool = False


@dataclass
class PermissionMatrix:
    model: str  # "app_label.model"
    make: Callable[[Any], Any]  # owner -> a new record owned by them
    endpoints: list[Endpoint]
    actions: Iterable[str] = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    # Other grants every scoped actor needs (e.g. {"customers.account": ["view"]} for contacts).
    extra_grants: dict[str, list[str]] = field(default_factory=dict)
    snapshot: Callable[[Any], Any] | None = None
    grant: Callable[..., None] | None = None
    scenarios: tuple[Scenario, ...] = SCENARIOS

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    # --- set-up ------------------------------------------------------------------------------

    def _grant(self, role: Any, label: str, actions: Iterable[str], scope: str) -> None:
        if self.grant is not None:
            self.grant(role, label, *actions, scope=scope)
            return
        role_permission = apps.get_model("users", "RolePermission")
        for action in actions:
            role_permission.objects.update_or_create(
                role=role, model=label, action=str(action), defaults={"scope": str(scope)}
            )

    def _state(self, record: Any) -> Any:
        fresh = self.model_class._base_manager.filter(pk=record.pk).first()
        if fresh is None:
            return None
        if self.snapshot is not None:
            return self.snapshot(fresh)
        return model_to_dict(fresh)

    def _count(self) -> int:
        return self.model_class._base_manager.count()

    # --- requests ----------------------------------------------------------------------------

    def _call(self, client: Any, endpoint: Endpoint, record: Any) -> Any:
        url = endpoint.url(record)
        body = endpoint.data(record) if endpoint.data is not None else None
        headers: dict[str, str] = {}
        if endpoint.htmx:
            headers["HX-Request"] = "true"
        method = endpoint.method.lower()
        if endpoint.api:
            headers["Accept"] = "application/json"
            if method in ("get", "delete") or body is None:
                return getattr(client, method)(url, headers=headers)
            return client.generic(
                method.upper(), url, data=json.dumps(body), content_type="application/json", headers=headers
            )
        if method == "get":
            return client.get(url, headers=headers)
        return client.post(url, data=body or {}, headers=headers)

    @staticmethod
    def _listed(endpoint: Endpoint, response: Any) -> set[int]:
        if endpoint.api:
            payload = response.json()
            rows = payload.get("results", payload) if isinstance(payload, dict) else payload
            return {int(r["id"]) for r in rows if isinstance(r, dict) and "id" in r}
        return {int(pk) for pk in re.findall(r'data-pk="(\d+)"', response.content.decode())}

    # --- the run -----------------------------------------------------------------------------

    def run(self, company: Any, client: Any) -> None:
        failures: list[str] = []
        for scenario in self.scenarios:
            actor = getattr(company, scenario.actor) if scenario.actor else None
            if scenario.scope is not None and scenario.role is not None:
                role = getattr(company, scenario.role)
                self._grant(role, self.model, self.actions, scenario.scope)
                for label, actions in self.extra_grants.items():
                    self._grant(role, label, actions, scenario.scope)
            for endpoint in self.endpoints:
                if actor is None:
                    client.logout()
                else:
                    client.force_login(actor)
                failures += self._check(company, client, scenario, actor, endpoint)
        client.logout()
        if failures:
            raise AssertionError(
                f"Permission matrix of {self.model}: {len(failures)} problem(s):\n  " + "\n  ".join(failures)
            )

    def _refusal_ok(
        self, scenario: Scenario, endpoint: Endpoint, status: int, response: Any, on_object: bool
    ) -> bool:
        if scenario.actor is None:
            if endpoint.api:
                return status in (401, 403)
            return status == 302 and "login" in response.get("Location", "")
        if on_object:
            return status == 404
        return status == 403

    def _check(
        self, company: Any, client: Any, scenario: Scenario, actor: Any, endpoint: Endpoint
    ) -> list[str]:
        where = f"[{scenario.name}] {endpoint.name} ({endpoint.method.upper()})"
        out: list[str] = []
        allowed_at_all = scenario.scope is not None
        if endpoint.on in ("list", "create"):
            records = {owner: self.make(getattr(company, owner)) for owner in OWNERS}
            own_record = self.make(actor if actor is not None else company.rep1)
            before = self._count()
            response = self._call(client, endpoint, own_record)
            status = response.status_code
            if allowed_at_all:
                if status not in endpoint.ok:
                    out.append(f"{where}: expected {endpoint.ok}, got {status}")
                elif endpoint.on == "list":
                    listed = self._listed(endpoint, response)
                    expected = {r.pk for o, r in records.items() if o in scenario.visible}
                    seen = listed & {r.pk for r in records.values()}
                    if seen != expected:
                        names = {r.pk: o for o, r in records.items()}
                        out.append(
                            f"{where}: listed owners {sorted(names[p] for p in seen)}, "
                            f"expected {sorted(names[p] for p in expected)}"
                        )
                if endpoint.writes and status in endpoint.ok and self._count() != before + 1:
                    out.append(f"{where}: a successful create did not add exactly one row")
            else:
                if not self._refusal_ok(scenario, endpoint, status, response, on_object=False):
                    out.append(f"{where}: expected a refusal, got {status}")
                if self._count() != before:
                    out.append(f"{where}: a refused call changed the number of rows")
            return out

        # Without any grant every record answers the same: one owner is enough.
        owners = OWNERS if allowed_at_all else OWNERS[:1]
        for owner in owners:
            record = self.make(getattr(company, owner))
            state = self._state(record)
            before = self._count()
            response = self._call(client, endpoint, record)
            status = response.status_code
            inside = allowed_at_all and owner in scenario.visible
            label = f"{where} on {owner}'s record"
            if inside:
                if status not in endpoint.ok:
                    out.append(f"{label}: expected {endpoint.ok}, got {status}")
                elif endpoint.writes:
                    after = self._state(record)
                    if endpoint.action == Action.DELETE:
                        if after is not None:
                            out.append(f"{label}: a successful delete left the row")
                    elif after == state:
                        out.append(f"{label}: a successful write changed nothing")
            else:
                if not self._refusal_ok(scenario, endpoint, status, response, on_object=True):
                    out.append(f"{label}: expected a refusal (404 / login), got {status}")
                if self._state(record) != state or self._count() != before:
                    out.append(f"{label}: a refused call changed data")
        return out


Data = Callable[[Any], dict[str, Any]]


def crud_endpoints(
    html: str,
    api: str,
    *,
    create: Data,
    edit: Data,
    api_create: Data,
    api_update: Data,
    list_url: str | None = None,
    add_form_url: Callable[[Any], str] | None = None,
    edit_htmx: bool = True,
    delete_htmx: bool = False,
    delete_confirm: bool = True,
    lists: Iterable[Endpoint] = (),
    views: Iterable[Endpoint] = (),
    actions: Iterable[Endpoint] = (),
    api_views: Iterable[Endpoint] = (),
    api_actions: Iterable[Endpoint] = (),
) -> list[Endpoint]:
    """The endpoints every record type has, in this order: the HTML list (then `lists`: more list
    pages such as a kanban), detail (then `views`: more read-only pages such as tabs), add form,
    create, edit form, edit (then `actions`: more HTML pages and writes, such as status moves),
    delete confirmation (unless not `delete_confirm`) and delete; the API list, retrieve (then
    `api_views`: more API reads), create, update (then `api_actions`) and delete.

    `html` and `api` are the collection URLs ("/customers/accounts/"); `create`/`edit` give the HTML form
    data and `api_create`/`api_update` the JSON bodies, each from the record (see `Endpoint`). The HTML
    edit is sent with htmx (answer 204) when `edit_htmx`, else as a plain form (answer 302); likewise
    the delete with `delete_htmx`. `list_url` replaces the HTML list URL (e.g. a sort) and
    `add_form_url` the add form's URL (e.g. with ``?account=``).
    """

    def write(name: str, url: Callable[[Any], str], action: str, data: Data | None, htmx: bool) -> Endpoint:
        return Endpoint(
            f"{name} (htmx)" if htmx else name,
            "post",
            url,
            action,
            data=data,
            writes=True,
            ok=(204,) if htmx else (302,),
            htmx=htmx,
        )

    return [
        Endpoint("html list", "get", lambda o: list_url or html, Action.VIEW, on="list"),
        *lists,
        Endpoint("html detail", "get", lambda o: f"{html}{o.pk}/", Action.VIEW),
        *views,
        Endpoint("html add form", "get", add_form_url or (lambda o: f"{html}add/"), Action.ADD, on="create"),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{html}add/",
            Action.ADD,
            on="create",
            data=create,
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{html}{o.pk}/edit/", Action.CHANGE),
        write("html edit", lambda o: f"{html}{o.pk}/edit/", Action.CHANGE, edit, edit_htmx),
        *actions,
        *(
            [Endpoint("html delete confirm", "get", lambda o: f"{html}{o.pk}/delete/", Action.DELETE)]
            if delete_confirm
            else []
        ),
        write("html delete", lambda o: f"{html}{o.pk}/delete/", Action.DELETE, None, delete_htmx),
        Endpoint("api list", "get", lambda o: api, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{api}{o.pk}/", Action.VIEW, api=True),
        *api_views,
        Endpoint(
            "api create",
            "post",
            lambda o: api,
            Action.ADD,
            on="create",
            api=True,
            data=api_create,
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{api}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=api_update,
            writes=True,
        ),
        *api_actions,
        Endpoint(
            "api delete", "delete", lambda o: f"{api}{o.pk}/", Action.DELETE, api=True, writes=True, ok=(204,)
        ),
    ]
