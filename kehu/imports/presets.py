"""Built-in import presets: the contact and lead exports of Salesforce, HubSpot, Google Contacts
and Outlook, recognised by their headers (:func:`detect_preset`) and read into Kehu fields.

A preset knows each header the vendor writes and the field it goes to (``None``: known but not
imported, e.g. a Salesforce record id or an address Kehu contacts do not have), the vendor's
picklist values in Kehu keys (Salesforce lead status, HubSpot lifecycle stage and lead status),
columns whose field depends on a label column (Google's ``Phone 1 - Label`` / ``Phone 1 - Value``)
and the date order of the export. Several headers may feed one single-valued field: the first
non-empty one in the preset's order wins (HubSpot's lead status, else its lifecycle stage).

Header lists (checked against each vendor's documentation and real exports):

* Salesforce: the standard Contact and Lead field labels, as report exports and Data Export
  write them (developer.salesforce.com, Object Reference: Contact, Lead; LeadStatus values from
  the default Lead Status picklist: Open - Not Contacted, Working - Contacted, Closed - Converted,
  Closed - Not Converted).
* HubSpot: the contacts export of the default property labels (knowledge.hubspot.com, "Export
  your records" and "Import contacts": Contact owner, Lifecycle stage values Subscriber, Lead,
  Marketing Qualified Lead, Sales Qualified Lead, Opportunity, Customer, Evangelist, Other).
* Google Contacts: the "Google CSV" export (support.google.com/contacts, "Export contacts");
  the current format ("First Name", "E-mail 1 - Label", "Phone 1 - Value", "Organization Name",
  "Labels"; several values of one kind in one cell joined by " ::: ") and the older format
  ("Name", "Given Name", "Family Name", "E-mail 1 - Type", "Organization 1 - Name",
  "Group Membership").
* Outlook: the columns of Outlook's CSV export (support.microsoft.com, "Create or edit .csv
  files to import into Outlook"): "Title" is the salutation (Mr., Dr.), "Job Title" the job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from . import mapping as m
from . import transforms as t

CONTACT = "customers.contact"
LEAD = "sales.lead"
MIN_SCORE = 0.5  # share of a file's headers a preset must know to be proposed
MIN_MATCHES = 3


@dataclass(frozen=True)
class Route:
    """A value column whose field depends on its label column (Google "Phone 1 - Label").

    Each value (a cell may hold several joined by ``:::``) goes to the field of its label (folded,
    Google's primary mark ``*`` dropped), else to `default`; when that field is single-valued and
    already has a value, to `overflow`."""

    value: str
    label: str
    fields: Mapping[str, str]
    default: str
    overflow: str = ""


@dataclass(frozen=True)
class Preset:
    key: str
    name: Any
    vendor: str
    target: str
    columns: Mapping[str, str | None]
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    date_order: t.DateOrder = "YMD"
    source: str = ""

    @property
    def headers(self) -> frozenset[str]:
        """Every header the preset knows, folded for comparing."""
        known = set(self.columns)
        for route in self.routes:
            known.update((route.value, route.label))
        return frozenset(m.normalise_header(h) for h in known)

    def mapping(self, headers: Sequence[str]) -> dict[str, str | None]:
        """Header -> field for a file's headers (a routed value column maps to its default field)."""
        by_norm: dict[str, str | None] = {m.normalise_header(h): f for h, f in self.columns.items()}
        for route in self.routes:
            by_norm[m.normalise_header(route.value)] = route.default
            by_norm.setdefault(m.normalise_header(route.label), None)
        return {h: by_norm.get(m.normalise_header(h)) for h in headers}

    def import_target(self) -> m.ImportTarget:
        """The target's fields; its custom fields too when the preset maps any (a database read,
        cached per process)."""
        custom = any(f and f.startswith("custom.") for f in self.columns.values())
        return m.get_target(self.target, custom=custom)

    def extract(self, row: Mapping[str, Any]) -> dict[str, list[str]]:
        """The row's raw values per field: routes applied, vendor values turned into Kehu keys
        (a value mapped to ``""`` is dropped), one value for single-valued fields."""
        target = self.import_target()
        cells = {m.normalise_header(h): v for h, v in row.items()}
        grouped: dict[str, list[str]] = {}

        def add(name: str, raw: Any) -> bool:
            text = t.trim(raw)
            if text is None:
                return False
            item = target.get(name)
            if item is not None and item.kind == m.FieldKind.MULTI:
                added = [
                    add_one(name, part, item) for part in t.split_multi(text)
                ]  # every part, no short cut
                return any(added)
            return add_one(name, text, item)

        def add_one(name: str, text: str, item: m.ImportField | None) -> bool:
            if name in self.values and item is not None:
                mapped = self.values[name].get(t.fold(text))
                if mapped is not None:
                    text = mapped
                if not text:
                    return False
            multiple = item is not None and (item.multiple or item.kind == m.FieldKind.MULTI)
            if name in grouped and not multiple:
                return False
            grouped.setdefault(name, []).append(text)
            return True

        for header, name in self.columns.items():
            if name:
                add(name, cells.get(m.normalise_header(header)))
        for route in self.routes:
            raw = t.trim(cells.get(m.normalise_header(route.value)))
            if raw is None:
                continue
            label = t.fold((t.trim(cells.get(m.normalise_header(route.label))) or "").lstrip("* "))
            name = route.fields.get(label, route.default)
            for value in t.split_multi(raw, separators=""):
                if not add(name, value) and route.overflow:
                    add(route.overflow, value)
        return grouped

    def convert(
        self,
        row: Mapping[str, Any],
        *,
        region: str = "CN",
        picklists: dict[str, t.PicklistMapper] | None = None,
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The row as typed Kehu field values and errors per field. Without `picklists`, choice
        fields (gender, lead status) are read against the model's choices and database picklist
        fields keep their text for the import to check."""
        target = self.import_target()
        if picklists is None:
            picklists = choice_mappers(target)
        options = m.ConvertOptions(date_order=self.date_order, region=region, picklists=picklists)
        return m.convert_values(target, self.extract(row), options)

    def to_json(self) -> dict[str, Any]:
        """The preset as JSON-able data (how a user-saved preset is stored)."""
        return {
            "key": self.key,
            "name": str(self.name),
            "vendor": self.vendor,
            "target": self.target,
            "columns": dict(self.columns),
            "values": {f: dict(v) for f, v in self.values.items()},
            "routes": [
                {
                    "value": r.value,
                    "label": r.label,
                    "fields": dict(r.fields),
                    "default": r.default,
                    "overflow": r.overflow,
                }
                for r in self.routes
            ],
            "date_order": self.date_order,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preset:
        """A preset from :meth:`to_json` data (a user-saved preset). Raises ValueError when it
        names a field its target does not have or an unknown date order."""
        target = m.get_target(data["target"], custom=True)
        columns = {str(h): (str(f) if f else None) for h, f in dict(data.get("columns", {})).items()}
        routes = tuple(
            Route(
                str(r["value"]),
                str(r["label"]),
                {t.fold(k): str(v) for k, v in dict(r.get("fields", {})).items()},
                str(r["default"]),
                str(r.get("overflow", "")),
            )
            for r in data.get("routes", [])
        )
        values = {
            str(f): {t.fold(k): str(v) for k, v in dict(vs).items()}
            for f, vs in dict(data.get("values", {})).items()
        }
        used = {f for f in columns.values() if f} | set(values)
        used |= {f for r in routes for f in (r.default, r.overflow, *r.fields.values()) if f}
        unknown = sorted(f for f in used if target.get(f) is None)
        if unknown:
            raise ValueError(f"{data['target']} has no fields {unknown}")
        order = str(data.get("date_order", "YMD"))
        if order not in t.DATE_ORDERS:
            raise ValueError(f"unknown date order {order!r}")
        return cls(
            key=str(data.get("key", "")),
            name=str(data.get("name", "")),
            vendor=str(data.get("vendor", "")),
            target=target.model_label,
            columns=columns,
            values=values,
            routes=routes,
            date_order=order,  # type: ignore[arg-type]
        )


def choice_mappers(target: m.ImportTarget) -> dict[str, t.PicklistMapper]:
    """Mappers for the target's fields with model choices (no database read)."""
    found = {}
    for item in target.fields:
        if item.kind == m.FieldKind.PICKLIST and not item.picklist and (choices := target.choices(item)):
            found[item.name] = t.PicklistMapper.from_choices(choices)
    return found


def _folded(values: Mapping[str, str]) -> dict[str, str]:
    return {t.fold(k): v for k, v in values.items()}


# --- Salesforce -----------------------------------------------------------------------------

# Salesforce's default Lead Status picklist. "Closed - Converted" is read as qualified: a Kehu
# lead is "converted" only through the conversion service, which links the account it became.
SALESFORCE_LEAD_STATUS = _folded(
    {
        "Open - Not Contacted": "new",
        "Working - Contacted": "contacting",
        "Closed - Converted": "qualified",
        "Closed - Not Converted": "unqualified",
    }
)

SALESFORCE_CONTACTS = Preset(
    key="salesforce_contacts",
    name=_("Salesforce contacts"),
    vendor="Salesforce",
    target=CONTACT,
    date_order="MDY",  # report exports write dates in the user's locale; en_US is M/D/YYYY
    source="developer.salesforce.com Object Reference: Contact (field labels as in report exports)",
    columns={
        "Contact ID": None,  # no external id field yet
        "Salutation": None,
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "title",
        "Department": None,
        "Account Name": "account",
        "Account ID": None,
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "Home Phone": "phones.home",
        "Other Phone": "phones.other",
        "Fax": "phones.fax",
        "Mailing Street": None,  # Kehu contacts have no address of their own
        "Mailing City": None,
        "Mailing State/Province": None,
        "Mailing Zip/Postal Code": None,
        "Mailing Country": None,
        "Lead Source": None,  # contacts have no source (accounts and leads do)
        "Birthdate": "birthday",
        "Contact Owner": "owner",
        "Email Opt Out": "do_not_email",
        "Do Not Call": "do_not_call",
        "Description": "notes",
        "Created Date": None,
    },
)

SALESFORCE_LEADS = Preset(
    key="salesforce_leads",
    name=_("Salesforce leads"),
    vendor="Salesforce",
    target=LEAD,
    date_order="MDY",
    source="developer.salesforce.com Object Reference: Lead, LeadStatus (default picklist values)",
    columns={
        "Lead ID": None,
        "Salutation": None,
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "title",
        "Company": "company",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "Website": "website",
        "Street": "address",
        "City": "city",
        "State/Province": "province",
        "Zip/Postal Code": None,  # leads keep no postcode
        "Country": "country",
        "Lead Source": "source",
        "Lead Status": "status",
        "Industry": None,
        "Rating": None,
        "Description": "description",
        "Lead Owner": "owner",
        "Created Date": None,
    },
    values={"status": SALESFORCE_LEAD_STATUS},
)

# --- HubSpot --------------------------------------------------------------------------------

HUBSPOT_LEAD_STATUS = _folded(
    {
        "New": "new",
        "Open": "new",
        "In Progress": "contacting",
        "Attempted to Contact": "contacting",
        "Connected": "contacting",
        "Open Deal": "qualified",
        "Unqualified": "unqualified",
        "Bad Timing": "unqualified",
    }
)
# Used when "Lead Status" is empty. Customers and evangelists should be imported as accounts and
# contacts; as leads they are qualified (ready to convert).
HUBSPOT_LIFECYCLE_STAGE = _folded(
    {
        "Subscriber": "new",
        "Lead": "new",
        "Marketing Qualified Lead": "new",
        "Sales Qualified Lead": "qualified",
        "Opportunity": "qualified",
        "Customer": "qualified",
        "Evangelist": "qualified",
        "Other": "new",
    }
)

HUBSPOT_CONTACTS = Preset(
    key="hubspot_contacts",
    name=_("HubSpot contacts"),
    vendor="HubSpot",
    target=LEAD,
    date_order="YMD",  # HubSpot exports dates as 2024-03-05 10:20
    source="knowledge.hubspot.com: Export your records; Import contacts (owner, lifecycle stage values)",
    columns={
        "Record ID": None,
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Company Name": "company",
        "Job Title": "title",
        "Website URL": "website",
        "Street Address": "address",
        "City": "city",
        "State/Region": "province",
        "Postal Code": None,
        "Country/Region": "country",
        "Lead Status": "status",
        "Lifecycle Stage": "status",  # only when Lead Status is empty (first non-empty wins)
        "Original Source": "source",
        "Contact owner": "owner",
        "Create Date": None,
        "Last Activity Date": None,
        "Marketing contact status": None,
    },
    values={"status": {**HUBSPOT_LIFECYCLE_STAGE, **HUBSPOT_LEAD_STATUS}},
)

# --- Google Contacts ------------------------------------------------------------------------

GOOGLE_PHONE_LABELS = _folded(
    {
        "Mobile": "mobile",
        "Work": "phone",
        "Main": "phone",
        "Home": "phones.home",
        "Work Fax": "phones.fax",
        "Home Fax": "phones.fax",
        "Other": "phones.other",
        "手机": "mobile",
        "工作": "phone",
        "住宅": "phones.home",
    }
)
# Google's own groups in "Labels" / "Group Membership" are not tags.
GOOGLE_SYSTEM_LABELS = _folded(
    {"* myContacts": "", "* starred": "", "* friends": "", "* family": "", "* coworkers": ""}
)


def _google_routes(email: str, phone: str, count: int = 3) -> tuple[Route, ...]:
    routes = []
    for n in range(1, count + 1):
        routes.append(
            Route(
                f"E-mail {n} - Value", f"E-mail {n} - {email}", {}, default="email", overflow="emails.other"
            )
        )
    for n in range(1, count + 1):
        routes.append(
            Route(
                f"Phone {n} - Value",
                f"Phone {n} - {phone}",
                GOOGLE_PHONE_LABELS,
                default="phone",
                overflow="phones.other",
            )
        )
    return tuple(routes)


def _google_addresses(prefix: str, parts: Iterable[str], count: int = 2) -> dict[str, str | None]:
    return {f"{prefix} {n} - {part}": None for n in range(1, count + 1) for part in parts}


GOOGLE_CONTACTS = Preset(
    key="google_contacts",
    name=_("Google Contacts (Google CSV)"),
    vendor="Google",
    target=CONTACT,
    date_order="YMD",  # birthdays are written 1990-03-05 (or --03-05 without a year)
    source="support.google.com/contacts: Export contacts (Google CSV, current format)",
    columns={
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Phonetic First Name": None,
        "Phonetic Middle Name": None,
        "Phonetic Last Name": None,
        "Name Prefix": None,
        "Name Suffix": None,
        "Nickname": None,
        "File As": None,
        "Organization Name": "account",
        "Organization Title": "title",
        "Organization Department": None,
        "Birthday": "birthday",
        "Notes": "notes",
        "Photo": None,
        "Labels": "tags",
        **_google_addresses(
            "Address",
            (
                "Label",
                "Formatted",
                "Street",
                "City",
                "PO Box",
                "Region",
                "Postal Code",
                "Country",
                "Extended Address",
            ),
        ),
        "Website 1 - Label": None,
        "Website 1 - Value": None,
    },
    values={"tags": GOOGLE_SYSTEM_LABELS},
    routes=_google_routes("Label", "Label"),
)

GOOGLE_CONTACTS_LEGACY = Preset(
    key="google_contacts_legacy",
    name=_("Google Contacts (older Google CSV)"),
    vendor="Google",
    target=CONTACT,
    date_order="YMD",
    source="support.google.com/contacts: Export contacts (Google CSV, format before 2022)",
    columns={
        "Name": "name",
        "Given Name": "first_name",
        "Additional Name": "middle_name",
        "Family Name": "last_name",
        "Yomi Name": None,
        "Given Name Yomi": None,
        "Additional Name Yomi": None,
        "Family Name Yomi": None,
        "Name Prefix": None,
        "Name Suffix": None,
        "Initials": None,
        "Nickname": None,
        "Short Name": None,
        "Maiden Name": None,
        "Birthday": "birthday",
        "Gender": "gender",
        "Location": None,
        "Billing Information": None,
        "Directory Server": None,
        "Mileage": None,
        "Occupation": None,
        "Hobby": None,
        "Sensitivity": None,
        "Priority": None,
        "Subject": None,
        "Notes": "notes",
        "Language": None,
        "Photo": None,
        "Group Membership": "tags",
        "Organization 1 - Type": None,
        "Organization 1 - Name": "account",
        "Organization 1 - Yomi Name": None,
        "Organization 1 - Title": "title",
        "Organization 1 - Department": None,
        "Organization 1 - Symbol": None,
        "Organization 1 - Location": None,
        "Organization 1 - Job Description": None,
        **_google_addresses(
            "Address",
            (
                "Type",
                "Formatted",
                "Street",
                "City",
                "PO Box",
                "Region",
                "Postal Code",
                "Country",
                "Extended Address",
            ),
        ),
        "Website 1 - Type": None,
        "Website 1 - Value": None,
    },
    values={"tags": GOOGLE_SYSTEM_LABELS},
    routes=_google_routes("Type", "Type"),
)

# --- Outlook --------------------------------------------------------------------------------

OUTLOOK_CONTACTS = Preset(
    key="outlook_contacts",
    name=_("Outlook contacts"),
    vendor="Microsoft",
    target=CONTACT,
    date_order="MDY",  # an en-US Outlook writes 3/5/1990; "0/0/00" means no date
    source="support.microsoft.com: Create or edit .csv files to import into Outlook (export columns)",
    columns={
        "Title": None,  # the salutation (Mr., Dr.)
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Suffix": None,
        "Nickname": None,
        "Company": "account",
        "Department": None,
        "Job Title": "title",
        "Business Street": None,  # Kehu contacts have no address of their own
        "Business Street 2": None,
        "Business Street 3": None,
        "Business City": None,
        "Business State": None,
        "Business Postal Code": None,
        "Business Country/Region": None,
        "Home Street": None,
        "Home City": None,
        "Home State": None,
        "Home Postal Code": None,
        "Home Country/Region": None,
        "Other Street": None,
        "Other City": None,
        "Other State": None,
        "Other Postal Code": None,
        "Other Country/Region": None,
        "Assistant's Phone": None,
        "Business Fax": "phones.fax",
        "Business Phone": "phone",
        "Business Phone 2": "phones.other",
        "Callback": None,
        "Car Phone": "phones.other",
        "Company Main Phone": None,
        "Home Fax": "phones.fax",
        "Home Phone": "phones.home",
        "Home Phone 2": "phones.home",
        "ISDN": None,
        "Mobile Phone": "mobile",
        "Other Fax": "phones.fax",
        "Other Phone": "phones.other",
        "Pager": None,
        "Primary Phone": "phones.other",
        "Radio Phone": None,
        "TTY/TDD Phone": None,
        "Telex": None,
        "Anniversary": None,
        "Birthday": "birthday",
        "Categories": "tags",
        "E-mail Address": "email",
        "E-mail Type": None,
        "E-mail Display Name": None,
        "E-mail 2 Address": "emails.other",
        "E-mail 2 Type": None,
        "E-mail 2 Display Name": None,
        "E-mail 3 Address": "emails.other",
        "E-mail 3 Type": None,
        "E-mail 3 Display Name": None,
        "Gender": "gender",
        "Manager's Name": None,
        "Notes": "notes",
        "Office Location": None,
        "Personal Web Page": None,
        "Web Page": None,
        "Private": None,
        "Sensitivity": None,
        "Priority": None,
        "Spouse": None,
        "Initials": None,
        "Keywords": None,
        "Language": None,
        "Location": None,
        "Mileage": None,
        "Hobby": None,
        "Billing Information": None,
        "Directory Server": None,
        "Account": None,
        "User 1": None,
        "User 2": None,
        "User 3": None,
        "User 4": None,
    },
    # "0/0/00" is Outlook's empty date; its gender column says "Unspecified" when unknown.
    values={"birthday": _folded({"0/0/00": ""}), "gender": _folded({"Unspecified": ""})},
)

PRESETS: tuple[Preset, ...] = (
    SALESFORCE_CONTACTS,
    SALESFORCE_LEADS,
    HUBSPOT_CONTACTS,
    GOOGLE_CONTACTS,
    GOOGLE_CONTACTS_LEGACY,
    OUTLOOK_CONTACTS,
)


def get_preset(key: str) -> Preset:
    for preset in PRESETS:
        if preset.key == key:
            return preset
    raise LookupError(key)


def detect_preset(
    headers: Sequence[str], presets: Iterable[Preset] = PRESETS, *, target: str | None = None
) -> tuple[Preset | None, float]:
    """The preset that knows the largest share of the file's headers, and that share (0..1).

    None when no preset knows at least half of the headers and three of them. Ties go to the
    preset with fewer headers of its own (the closer fit). `target` keeps only its presets."""
    wanted = [m.normalise_header(h) for h in headers if h and h.strip()]
    if not wanted:
        return None, 0.0
    best: tuple[float, float, Preset] | None = None
    for preset in presets:
        if target and preset.target != target:
            continue
        known = preset.headers
        matches = sum(1 for h in wanted if h in known)
        if matches < MIN_MATCHES:
            continue
        score = matches / len(wanted)
        precision = matches / len(known)
        if best is None or (score, precision) > best[:2]:
            best = (score, precision, preset)
    if best is None or best[0] < MIN_SCORE:
        return None, best[0] if best else 0.0
    return best[2], round(best[0], 3)
