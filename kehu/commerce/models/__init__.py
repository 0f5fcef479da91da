from .base import DocumentTotals, LineBase
from .contracts import Contract, ContractAttachment
from .orders import Order, OrderLine, OrderStatus
from .payments import CreditEntry, Instalment, Invoice, Payment, PaymentPlan
from .quotes import ApprovalRule, Quote, QuoteApproval, QuoteLine

__all__ = [
    "ApprovalRule",
    "Contract",
    "ContractAttachment",
    "CreditEntry",
    "DocumentTotals",
    "Instalment",
    "Invoice",
    "LineBase",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PaymentPlan",
    "Quote",
    "QuoteApproval",
    "QuoteLine",
]
from .company import CompanyProfile as CompanyProfile
