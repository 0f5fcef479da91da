"""Choices of the commerce app (报价单, 合同, 订单, 回款, 发票)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuoteStatus(models.TextChoices):
    """draft → pending approval → approved → sent → accepted / rejected / expired. A quote that
    needs no approval goes from draft straight to approved when submitted."""

    DRAFT = "draft", pgettext_lazy("quote", "Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", pgettext_lazy("quote", "Approved")
    SENT = "sent", pgettext_lazy("quote", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote", "Accepted")
    REJECTED = "rejected", pgettext_lazy("quote", "Rejected")
    EXPIRED = "expired", pgettext_lazy("quote", "Expired")


class ApprovalRuleKind(models.TextChoices):
    DISCOUNT_ABOVE = "discount_above", _("Discount above (%)")
    TOTAL_ABOVE = "total_above", _("Total above (company currency)")
    BELOW_COST = "below_cost", _("A price below cost")


class ApproverKind(models.TextChoices):
    MANAGER = "manager", _("The owner's manager")
    ROLE = "role", _("Anyone with a role")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("approval", "Pending")
    APPROVED = "approved", pgettext_lazy("approval", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("approval", "Cancelled")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("contract", "Draft")
    ACTIVE = "active", pgettext_lazy("contract", "Active")
    EXPIRED = "expired", pgettext_lazy("contract", "Expired")
    TERMINATED = "terminated", pgettext_lazy("contract", "Terminated")


class AttachmentKind(models.TextChoices):
    SIGNED = "signed", _("Signed contract")
    APPENDIX = "appendix", _("Appendix")
    OTHER = "other", pgettext_lazy("attachment", "Other")


class OrderStatusKind(models.TextChoices):
    """What an order status means for reports and analytics: still moving, done, or cancelled."""

    OPEN = "open", pgettext_lazy("order", "Open")
    DONE = "done", pgettext_lazy("order", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order", "Cancelled")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    CHEQUE = "cheque", _("Cheque")
    CARD = "card", _("Card")
    ACCEPTANCE = "acceptance", _("Bank acceptance bill")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class InvoiceKind(models.TextChoices):
    SPECIAL_VAT = "special_vat", _("Special VAT invoice (增值税专用发票)")
    NORMAL_VAT = "normal_vat", _("Normal VAT invoice (增值税普通发票)")
    OTHER = "other", pgettext_lazy("invoice", "Other")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("invoice", "Draft")
    ISSUED = "issued", pgettext_lazy("invoice", "Issued")
    VOID = "void", pgettext_lazy("invoice", "Void")


class AgingBucket(models.TextChoices):
    """Receivables by days past the due date."""

    NOT_DUE = "not_due", _("Not yet due")
    D0_30 = "0_30", _("0–30 days")
    D31_60 = "31_60", _("31–60 days")
    D61_90 = "61_90", _("61–90 days")
    D90_PLUS = "90_plus", _("> 90 days")
