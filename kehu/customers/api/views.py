from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import checks
from kehu.core.api.bulk import BulkActionMixin
from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.tags.api.mixins import TagsWriteMixin

from .. import services
from ..filtersets import AccountFilterSet, AddressFilterSet, ContactFilterSet, RelationFilterSet
from ..models import Account, AccountAddress, AccountContactRelation, Contact
from .serializers import AccountSerializer, AddressSerializer, ContactSerializer, RelationSerializer


@extend_schema_view(
    list=extend_schema(summary="List accounts you may view"),
    retrieve=extend_schema(summary="Get an account"),
    create=extend_schema(summary="Create an account (collision check; assignment rules without an owner)"),
    update=extend_schema(summary="Replace an account"),
    partial_update=extend_schema(summary="Change an account"),
    destroy=extend_schema(summary="Delete an account (refused while it has contacts or child accounts)"),
)
@extend_schema(tags=["customers"])
class AccountViewSet(TagsWriteMixin, BulkActionMixin, RestrictedModelViewSet):
    """Accounts (客户): companies and persons. Filters are the account list's.

    `phones`, `emails` and `addresses` are nested lists: send the whole list to replace it (one
    row primary; the first when none is marked). `phone`, `email` and `address` are the primary
    values (sending `phone` alone edits the primary phone). `tags`: a list of tag ids or names
    replaces the account's tags (one tag per exclusive group).

    Create without an `owner`: the assignment rules may give the account to someone outside your
    data scope (or put it in a pool you are not in); it is created with its tags all the same, and
    the answer is 201 with only `{"id": ...}` (you may not read it any more)."""

    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    select_related = ("owner", "department", "created_by")

    def get_queryset(self) -> Any:
        if self.action == "list":
            # The list shows owner, department, creator and parent by id (no joins), and its
            # serializer (FastListSerializer) loads the phones, e-mails and addresses of the page
            # in one query each.
            return Account.objects.restrict(self.request.user, Action.VIEW)
        return super().get_queryset().prefetch_related("phones", "emails", "addresses")

    def perform_service_create(self, data: dict[str, Any]) -> Account:
        confirmed = checks.is_confirmed(self.request.data)  # "confirm_collisions": true
        return services.account_create(
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            confirmed=confirmed,
            tags=self.new_tags(),
        )

    def perform_service_update(self, obj: Account, data: dict[str, Any], version: int | None) -> Account:
        return services.account_update(
            account=obj,
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            version=version,
            confirmed=checks.is_confirmed(self.request.data),
        )

    def perform_service_delete(self, obj: Account) -> None:
        services.account_delete(account=obj, by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List contacts you may view"),
    retrieve=extend_schema(summary="Get a contact"),
    create=extend_schema(summary="Create a contact"),
    update=extend_schema(summary="Replace a contact"),
    partial_update=extend_schema(summary="Change a contact"),
    destroy=extend_schema(summary="Delete a contact"),
)
@extend_schema(tags=["customers"])
class ContactViewSet(TagsWriteMixin, BulkActionMixin, RestrictedModelViewSet):
    """Contacts (联系人): people at accounts. A contact's scope is its own owner and department.

    `account` is the direct account (`role`: the role there); `relations` lists every account the
    contact works with (edit them at /customers/account-contact-relations/). `tags`: a list of tag
    ids or names replaces the contact's tags (one tag per exclusive group)."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    select_related = ("owner", "department", "created_by")

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("phones", "emails", "account_relations__account")

    def perform_service_create(self, data: dict[str, Any]) -> Contact:
        confirmed = checks.is_confirmed(self.request.data)  # "confirm_collisions": true
        return services.contact_create(
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            confirmed=confirmed,
            tags=self.new_tags(),
        )

    def perform_service_update(self, obj: Contact, data: dict[str, Any], version: int | None) -> Contact:
        return services.contact_update(
            contact=obj,
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            version=version,
            confirmed=checks.is_confirmed(self.request.data),
        )

    def perform_service_delete(self, obj: Contact) -> None:
        services.contact_delete(contact=obj, by=self.request.user)


class _CanView(permissions.IsAuthenticated):
    """Signed in and allowed to view the parent model in some scope (writes are checked by the
    services against the parent record)."""

    parent_model: type[Any] = Account

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and can(request.user, view.parent_model, Action.VIEW)


class _DetailViewSet(viewsets.ModelViewSet):
    permission_classes = [_CanView]
    lookup_value_regex = r"\d+"
    parent_model: type[Any] = Account

    def filter_queryset(self, queryset: Any) -> Any:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _answer(self, obj: Any, created: bool = False) -> Response:
        fresh = self.get_queryset().filter(pk=obj.pk).first() or obj
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(fresh).data, status=code)


@extend_schema_view(
    list=extend_schema(summary="List addresses of accounts you may view"),
    retrieve=extend_schema(summary="Get an address"),
    create=extend_schema(summary="Add an address to an account"),
    update=extend_schema(summary="Replace an address"),
    partial_update=extend_schema(summary="Change an address"),
    destroy=extend_schema(summary="Delete an address"),
)
@extend_schema(tags=["customers"])
class AddressViewSet(_DetailViewSet):
    """Addresses of accounts (visible with their account; changing one needs change on it)."""

    serializer_class = AddressSerializer
    filterset_class = AddressFilterSet

    def get_queryset(self) -> Any:
        visible = Account.objects.restrict(self.request.user, Action.VIEW).values("pk")
        return AccountAddress.objects.filter(account_id__in=visible).order_by("-id")

    def perform_create(self, serializer: Any) -> None:
        data: Any = dict(serializer.validated_data)
        account = data.pop("account")
        serializer.instance = services.account_address_create(
            by=self.request.user, account=account, data=data
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return self._answer(serializer.instance, created=True)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("account", None)
        saved = services.account_address_update(by=request.user, address=instance, data=data)  # type: ignore[arg-type]
        return self._answer(saved)

    def perform_destroy(self, instance: AccountAddress) -> None:
        services.account_address_delete(by=self.request.user, address=instance)


class _CanViewContacts(_CanView):
    parent_model = Contact


@extend_schema_view(
    list=extend_schema(summary="List account-contact relations of contacts you may view"),
    retrieve=extend_schema(summary="Get an account-contact relation"),
    create=extend_schema(summary="Link a contact to an account in a role (409 when already linked)"),
    update=extend_schema(summary="Replace a relation's role and dates"),
    partial_update=extend_schema(summary="Change a relation's role, dates or make it the direct account"),
    destroy=extend_schema(summary="Unlink a contact from an account (not the direct account)"),
)
@extend_schema(tags=["customers"])
class RelationViewSet(_DetailViewSet):
    """Account-contact relations (联系人关系): a contact works with several accounts, in a role at each.
    Visible with the contact; changing needs change on the contact and view on the account."""

    serializer_class = RelationSerializer
    filterset_class = RelationFilterSet
    permission_classes = [_CanViewContacts]
    parent_model = Contact

    def get_queryset(self) -> Any:
        visible = Contact.objects.restrict(self.request.user, Action.VIEW).values("pk")
        return (
            AccountContactRelation.objects.filter(contact_id__in=visible)
            .select_related("account")
            .order_by("-id")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("is_direct"):
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"is_direct": ["Link the account first, then make it direct with PATCH."]})
        rel = services.contact_relation_add(
            by=request.user,
            contact=data["contact"],
            account=data["account"],
            role=data.get("role", ""),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
        )
        return self._answer(rel, created=True)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k not in ("account", "contact")}
        rel = services.contact_relation_update(by=request.user, relation=instance, data=data)
        return self._answer(rel)

    def perform_destroy(self, instance: AccountContactRelation) -> None:
        services.contact_relation_remove(by=self.request.user, relation=instance)
