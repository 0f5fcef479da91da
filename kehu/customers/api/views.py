from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from kehu.core.api.mixins import RestrictedModelViewSet

from .. import services
from ..filtersets import AccountFilterSet, ContactFilterSet
from ..models import Account, Contact
from .serializers import AccountSerializer, ContactSerializer


@extend_schema_view(
    list=extend_schema(summary="List accounts you may view"),
    retrieve=extend_schema(summary="Get an account"),
    create=extend_schema(summary="Create an account"),
    update=extend_schema(summary="Replace an account"),
    partial_update=extend_schema(summary="Change an account"),
    destroy=extend_schema(summary="Delete an account (refused while it has contacts)"),
)
@extend_schema(tags=["customers"])
class AccountViewSet(RestrictedModelViewSet):
    """Accounts (客户): companies and persons. Filters are the account list's."""

    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    select_related = ("owner", "department", "created_by")

    def perform_service_create(self, data: dict[str, Any]) -> Account:
        return services.account_create(by=self.request.user, data=data)  # type: ignore[arg-type]

    def perform_service_update(self, obj: Account, data: dict[str, Any], version: int | None) -> Account:
        return services.account_update(account=obj, by=self.request.user, data=data, version=version)  # type: ignore[arg-type]

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
class ContactViewSet(RestrictedModelViewSet):
    """Contacts (联系人): people at accounts. A contact's scope is its own owner and department."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    select_related = ("owner", "department", "created_by")

    def perform_service_create(self, data: dict[str, Any]) -> Contact:
        return services.contact_create(by=self.request.user, data=data)  # type: ignore[arg-type]

    def perform_service_update(self, obj: Contact, data: dict[str, Any], version: int | None) -> Contact:
        return services.contact_update(contact=obj, by=self.request.user, data=data, version=version)  # type: ignore[arg-type]

    def perform_service_delete(self, obj: Contact) -> None:
        services.contact_delete(contact=obj, by=self.request.user)
