"""Hostile input for any HTML form: find the forms on a page, send each field bad values, judge the answers.

`forms_of(html)` finds a page's forms; `attack(client, form, page_url, uploads)` returns the problems it
saw as sentences, so a test can assert there are none and a meta-test can assert a careless view is caught.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.contrib import messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import Client
from django.urls import Resolver404, resolve

from aftercrisis.outcomes.imports import SETTING_SYSTEM, TRIAL_ID_SYSTEM

BIG = str(2**63)
INJECTIONS = ["<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "nul\x00byte", "\u202eevil"]
TEXT = ["", "x" * 300, "x" * 10_000, BIG, *INJECTIONS]
NUMBER = ["", "-1", BIG, str(10**30), "1e309", "NaN", "abc", "1.5", "1" * 300, INJECTIONS[0]]
DATE = ["", "2026-02-30", "0000-01-01", "9999-12-31", "1900-01-01", "abc", "2026-13-01", "99999-01-01"]
HIDDEN = ["", BIG, str(10**30), "-1", "abc", "x" * 300, INJECTIONS[3]]
CHOICE = ["", "not-an-option", "x" * 300, BIG, "-1", INJECTIONS[0], INJECTIONS[3]]
# Fields after the first two of a family (same kind, options and name before its first _ or -, digits
# aside: a questionnaire's items, a resource-use grid, a workbook's repeated goals) get one of these each.
SAME_AGAIN = ["", "not-an-option", BIG]

# Models whose rows count refused attempts on purpose (an authenticator's throttle): a refusal may change them.
RECORD_REFUSALS = {"otp_totp.totpdevice"}
NOT_TRIAL_DATA = {"sessions", "contenttypes", "axes"}
TEXT_TYPES = {"text", "textarea", "email", "password", "search", "tel", "url"}
FILLER = {"email": "someone@example.org", "number": "1", "date": "2026-03-02", "tel": "07700 900123"}


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or "select", "textarea", "choice" (radios, named buttons), "multi"
    default: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, name: str, kind: str, value: str | None, chosen: bool, option: bool) -> None:
        known = self.fields.get(name)
        if known is None:
            known = self.fields[name] = Field(name, kind)
        elif option and known.kind in {"checkbox", "radio", "choice", "multi", "submit"}:
            known.kind = "multi" if kind == "checkbox" else "choice"
        if option:
            known.options.append(value or "")
        if chosen and value is not None:
            known.default.append(value)

    @property
    def signature(self) -> tuple[str, ...]:
        return tuple(sorted(self.fields))


class FormParser(HTMLParser):
    """Every <form> of a page with its fields: inputs, selects with options, textareas, named buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._option: tuple[str | None, bool] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        if tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a)
            self._text = []
        if self._form is None or "name" not in a or "disabled" in a:
            return
        kind = a.get("type", "text").lower()
        if tag == "input" and kind in {"checkbox", "radio"}:
            self._form.add(a["name"], kind, a.get("value", "on"), "checked" in a, option=True)
        elif tag == "input" and kind in {"submit", "image", "reset", "button"}:
            if kind == "submit":
                self._form.add(a["name"], "submit", a.get("value", ""), chosen=False, option=True)
        elif tag == "input":
            self._form.add(a["name"], kind, a.get("value", ""), chosen=True, option=False)
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.add(a["name"], "submit", a.get("value", ""), chosen=False, option=True)
        elif tag == "select":
            self._select = a["name"]
            self._form.add(a["name"], "select", None, chosen=False, option=False)
        elif tag == "textarea":
            self._textarea = a["name"]
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "option" and self._form is not None and self._select is not None and self._option:
            value, selected = self._option
            text = value if value is not None else "".join(self._text).strip()
            self._form.add(self._select, "select", text, chosen=selected, option=True)
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea is not None:
            self._form.add(self._textarea, "textarea", "".join(self._text), chosen=True, option=False)
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def baseline(form: Form) -> dict[str, str | list[str]]:
    """A submission that looks valid: the form's own defaults, first options and plausible fillers."""
    data: dict[str, str | list[str]] = {}
    for f in form.fields.values():
        if f.kind in {"file", "submit"} and not f.default:
            if f.kind == "submit" and f.options:
                data[f.name] = f.options[0]
            continue
        if f.kind == "multi" or f.kind == "checkbox":
            if f.default:
                data[f.name] = list(f.default)
            continue
        chosen = next((v for v in f.default if v), "")
        if not chosen and f.kind in {"select", "choice", "radio"}:
            chosen = next((o for o in f.options if o), "")
        if not chosen and f.kind != "hidden":
            chosen = FILLER.get(f.kind, "example")
        data[f.name] = chosen
    return data


def variants(form: Form) -> Iterator[tuple[str, str | None]]:
    """(field, value) pairs to send in place of the baseline's; None leaves the field out."""
    seen: dict[tuple[str, tuple[str, ...], str], int] = {}
    for f in form.fields.values():
        if f.name == "csrfmiddlewaretoken" or f.kind == "file":
            continue
        family = (f.kind, tuple(f.options), re.split(r"[_-]", re.sub(r"\d+", "#", f.name))[0])
        again = seen[family] = seen.get(family, 0) + 1
        if f.kind == "number":
            values = NUMBER
        elif f.kind == "date":
            values = DATE
        elif f.kind == "hidden":
            values = HIDDEN
        elif f.kind in TEXT_TYPES:
            values = TEXT
        else:
            values = CHOICE
        if again > 2:
            values = [SAME_AGAIN[again % len(SAME_AGAIN)]]
        elif f.kind in {"checkbox", "multi", "submit"}:
            yield f.name, None
        yield from ((f.name, v) for v in values if v not in f.options or v == "")


# The database: what changed, and whether PostgreSQL would take what is there.


def trial_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label not in NOT_TRIAL_DATA]


def snapshot() -> dict[str, tuple[int, Any]]:
    """Per table, its row count and highest key, in one query. A change to an audited row shows as a
    new row of its history table."""
    q = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT '{m._meta.label_lower}', COUNT(*), MAX({q(m._meta.pk.column)}) FROM {q(m._meta.db_table)}"
        for m in trial_models()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {table: (count, top) for table, count, top in cursor.fetchall()}


RANGES = BaseDatabaseOperations.integer_field_ranges


def _json_problem(value: Any) -> str:
    if isinstance(value, str) and "\x00" in value:
        return "a NUL character"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (not JSON)"
    if isinstance(value, dict):
        return next((p for v in [*value, *value.values()] if (p := _json_problem(v))), "")
    if isinstance(value, list):
        return next((p for v in value if (p := _json_problem(v))), "")
    return ""


def refused_by_postgresql(model: type[models.Model]) -> list[str]:
    """Stored values that SQLite keeps and PostgreSQL refuses: too long, NUL, integer overflow, bad JSON."""
    problems = []
    fields = list(model._meta.concrete_fields)
    for row in model._base_manager.values_list(*[f.attname for f in fields]):
        for f, value in zip(fields, row, strict=True):
            where = f"{model._meta.label}.{f.name} = {str(value)[:60]!r}"
            if isinstance(value, str):
                if "\x00" in value:
                    problems.append(f"{where}: a NUL character")
                max_length = getattr(f, "max_length", None)
                if max_length and len(value) > max_length:
                    problems.append(f"{where}: {len(value)} characters in a column of {max_length}")
            elif isinstance(value, int) and not isinstance(value, bool):
                low, high = RANGES.get(f.get_internal_type(), (-(2**63), 2**63 - 1))
                if not low <= value <= high:
                    problems.append(f"{where}: out of range for {f.get_internal_type()}")
            elif isinstance(f, models.JSONField) and (problem := _json_problem(value)):
                problems.append(f"{where}: {problem}")
            elif isinstance(value, dt.date) and not 1 <= value.year <= 9999:
                problems.append(f"{where}: year out of range")
    return problems


def upload_corpus(trial_id: str, setting: str) -> list[tuple[str, bytes, bool]]:
    """Malformed files as (name, content, must be refused): for any file field, CSV and FHIR alike.
    `trial_id` and `setting` make the rest of a file valid, so each file is wrong in one way only."""
    header = "trial_id,setting,start,end,admission_type\n"
    row = f"{trial_id},{setting},2026-03-02,2026-03-09,informal\n"

    def bundle(entry: object) -> bytes:
        return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entry}).encode()

    def encounter(start: str) -> dict[str, Any]:
        return {"resource": {
            "resourceType": "Encounter", "id": "e1", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"identifier": {"system": TRIAL_ID_SYSTEM, "value": trial_id}},
            "type": [{"coding": [{"system": SETTING_SYSTEM, "code": setting}]}],
            "period": {"start": start},
        }}  # fmt: skip

    nested = 100_000
    return [
        ("empty.csv", b"", True),
        ("garbage.csv", bytes(range(256)) * 64, True),
        ("garbage.json", b"{" + bytes(range(256)) * 64, True),
        ("utf16.csv", (header + row).encode("utf-16"), True),
        ("header-only.csv", header.encode(), True),
        (
            "duplicated-columns.csv",
            (header.strip() + ",start\n" + row.strip() + ",2026-03-03\n").encode(),
            True,
        ),
        (
            "huge-cell.csv",
            (header + f"{trial_id},{'x' * (csv.field_size_limit() + 1)},2026-03-02,,\n").encode(),
            True,
        ),
        ("over-the-limit.csv", (header + "T,inpatient_ward,2026-02-30,,\n" * 100_000).encode(), True),
        ("bad-setting.csv", (header + row.replace(setting, "nowhere")).encode(), True),
        ("bad-date.csv", (header + row.replace("2026-03-02", "2026-02-30")).encode(), True),
        ("../../" + "x" * 300 + ".csv", (header + row.replace(setting, "nowhere")).encode(), True),
        ("entry-not-a-list.json", bundle({"resource": {"resourceType": "Encounter"}}), True),
        ("entry-a-string.json", bundle("entries"), True),
        ("deep.json", b'{"a":' * nested + b"1" + b"}" * nested, True),
        (
            "deep-list.json",
            b'{"resourceType": "Bundle", "entry": ' + b"[" * nested + b"]" * nested + b"}",
            True,
        ),
        ("year-only.json", bundle([encounter("2026")]), False),
        ("year-month.json", bundle([encounter("2026-11")]), False),
        ("nul.json", bundle([encounter("2026-03-02\u0000")]), True),
    ]


# Sending.


def _refused(response: Any) -> bool:
    if response.status_code >= 400:
        return True
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    if any(m.level >= messages.ERROR for m in queued):
        return True
    return b"nhsuk-error" in response.content if response.status_code == 200 else False


def _shown(data: dict[str, str | list[str]], name: str) -> str:
    value = data.get(name)
    return f"{name}={json.dumps(value)[:50]}" if name in data else f"{name} left out"


def _read(client: Client, page: str) -> list[str]:
    try:
        response = client.get(page)
    except Exception as exc:  # a server error is what is being looked for
        return [f"server error {type(exc).__name__}: {str(exc)[:200]}"]
    return [f"answered {response.status_code}"] if response.status_code >= 500 else []


def submit(
    client: Client,
    form: Form,
    url: str,
    data: dict[str, Any],
    label: str,
    before: dict[str, tuple[int, Any]],
    page: str,
    must_refuse: bool = False,
) -> list[str]:
    """Send one submission, read the form's page again if it wrote anything (a stored value must not
    break a later reading), and undo whatever it wrote; the problems it shows."""
    cookies = copy.deepcopy(client.cookies)
    problems = []
    with transaction.atomic():
        try:
            send = client.post if form.method == "post" else client.get
            response = send(url, data)
        except Exception as exc:  # a server error is what is being looked for
            problems.append(f"{label}: server error {type(exc).__name__}: {str(exc)[:200]}")
        else:
            if response.status_code >= 500:
                problems.append(f"{label}: answered {response.status_code}")
            after = snapshot()
            changed = sorted(table for table in after if after[table] != before[table])
            if must_refuse and not _refused(response):
                problems.append(f"{label}: accepted ({response.status_code}), should be refused")
            if _refused(response):
                changed = [table for table in changed if table not in RECORD_REFUSALS]
                if changed:
                    problems.append(
                        f"{label}: refused ({response.status_code}) but changed {', '.join(changed)}"
                    )
            else:
                for table in changed:
                    model = apps.get_model(table)
                    problems.extend(f"{label}: stored {p}" for p in refused_by_postgresql(model))
                if changed:
                    problems.extend(f"{label}, then GET {page}: {p}" for p in _read(client, page))
        transaction.set_rollback(True)
    client.cookies = cookies
    return problems


def target(form: Form, page_url: str) -> str:
    return urlsplit(urljoin(page_url, form.action or page_url)).path


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def attack(
    client: Client, form: Form, page_url: str, uploads: list[tuple[str, bytes, bool]] = ()
) -> list[str]:
    """The baseline, then each field's hostile values in turn, then each upload for each file field."""
    url = target(form, page_url)
    query = urlsplit(urljoin(page_url, form.action or page_url)).query
    if query:
        url = f"{url}?{query}"
    base = baseline(form)
    before = snapshot()
    problems = submit(client, form, url, base, f"{form.method.upper()} {url} baseline", before, page_url)
    for name, value in variants(form):
        data = dict(base)
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
        label = f"{form.method.upper()} {url} {_shown(data, name)}"
        problems.extend(submit(client, form, url, data, label, before, page_url))
    for name in [f.name for f in form.fields.values() if f.kind == "file"]:
        for filename, content, must_refuse in uploads:
            data = {**base, name: SimpleUploadedFile(filename, content)}
            label = f"{form.method.upper()} {url} {name}={filename[-40:]}"
            problems.extend(submit(client, form, url, data, label, before, page_url, must_refuse=must_refuse))
    return problems
