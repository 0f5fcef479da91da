"""zh-Hans number formats that override Django's: amounts group thousands with a comma
(¥12,345.67), as Chinese invoices, contracts and bank statements write them. Django's own zh_Hans
module has no separator, so `floatformat:"2g"` and `intcomma` printed 12345.67. Dates and the
input formats are Django's (a format missing here falls back to Django's module)."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
