from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "kehu.commerce"
    label = "commerce"
    verbose_name = _("Quote-to-cash")

    def ready(self) -> None:
        from kehu.audit import registry as audit_registry
        from kehu.core import permissions
        from kehu.core.choices import Action
        from kehu.customfields import registry as customfields_registry

        from .models import (
            ApprovalRule,
            Contract,
            ContractAttachment,
            CreditEntry,
            Instalment,
            Invoice,
            Order,
            OrderLine,
            OrderStatus,
            Payment,
            PaymentPlan,
            Quote,
            QuoteApproval,
            QuoteLine,
        )

        actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
        group = _("Quote-to-cash")
        # the documents' lists can be exported (CSV / XLSX), the receivables' instalments too
        for managed in (Quote, Contract, Order, Payment, Invoice):
            permissions.register(managed, actions=(*actions, Action.EXPORT), group=group)
        for setting in (PaymentPlan, ApprovalRule, OrderStatus):
            permissions.register(setting, actions=actions, group=group)
        permissions.register(Instalment, actions=(Action.VIEW, Action.EXPORT), group=group)
        for audited in (
            Quote,
            Contract,
            Order,
            PaymentPlan,
            Instalment,
            Payment,
            Invoice,
            ApprovalRule,
            OrderStatus,
        ):
            audit_registry.register(audited)
        # what changes a document's amounts or approvals is logged under the document
        audit_registry.register(QuoteLine, parent="quote")
        audit_registry.register(QuoteApproval, parent="quote")
        audit_registry.register(OrderLine, parent="order")
        audit_registry.register(ContractAttachment, parent="contract", exclude=("file",))
        audit_registry.register(CreditEntry, parent="account")
        for customizable in (Quote, Contract, Order):
            customfields_registry.register(customizable)

        from kehu.core import navigation

        # Each area (quotes, approvals, pdf, contracts, orders, payments, account360) registers its
        # timeline events, notification kinds, extra menu items, panels and search providers in
        # its own `register()` in kehu/commerce/hooks/<area>.py: add yours there, not here.
        from . import hooks

        hooks.register_all()

        navigation.register_group("commerce", _("Quote-to-cash"), icon="file-invoice", order=16)
        for label, url_name, icon, label_of in (
            (_("Quotes"), "commerce:quote_list", "file-dollar", "commerce.quote"),
            (_("Approvals"), "commerce:approval_inbox", "checklist", "commerce.quote"),
            (_("Contracts"), "commerce:contract_list", "file-certificate", "commerce.contract"),
            (_("Orders"), "commerce:order_list", "shopping-cart", "commerce.order"),
            (_("Payments"), "commerce:payment_list", "cash", "commerce.payment"),
            (_("Invoices"), "commerce:invoice_list", "receipt", "commerce.invoice"),
            (_("Receivables"), "commerce:receivables", "report-money", "commerce.instalment"),
        ):
            navigation.register_item(
                "commerce", navigation.MenuItem(label, url_name, icon=icon, requires=(label_of, "view"))
            )
        for label, url_name, icon, label_of in (
            (_("Approval rules"), "commerce:approvalrule_list", "gavel", "commerce.approvalrule"),
            (_("Order statuses"), "commerce:orderstatus_list", "list-check", "commerce.orderstatus"),
        ):
            navigation.register_item(
                "settings", navigation.MenuItem(label, url_name, icon=icon, requires=(label_of, "change"))
            )
