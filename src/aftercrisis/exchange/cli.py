"""`aftercrisis export-fhir` and `aftercrisis export-odm`: the trial's data in a standard format, as one
member of staff in one role would see it."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def acting_as(username: str, role: str | None) -> Any:
    """The actor the export is made for: a member of staff in one of their roles (their only one if none given).

    Raises SystemExit with a message naming the problem; the export then writes nothing."""
    from aftercrisis.accounts.models import User
    from aftercrisis.accounts.selectors import actor_for, roles_of

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise SystemExit(f"--as: no active member of staff is called {username!r}")
    actor = actor_for(user, role)
    if actor is None:
        held = ", ".join(r.value for r in roles_of(user)) or "none"
        raise SystemExit(f"--role: {username} acts in one of these roles, name it with --role: {held}")
    return actor


@contextmanager
def written_whole(destination: Path) -> Iterator[IO[bytes]]:
    """A file to write the export to: beside `destination`, readable by its owner only (an export may hold
    identity), renamed into place once whole; removed if anything goes wrong, so a refusal leaves no file."""
    handle, name = tempfile.mkstemp(dir=destination.parent, suffix=".part")
    part = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
    except BaseException:
        part.unlink()
        raise
    part.replace(destination)


def export_fhir(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from django.core.exceptions import PermissionDenied

    from aftercrisis.config.trial import protocol
    from aftercrisis.exchange.fhir import trial_bundle

    actor = acting_as(args.acting_as, args.role)
    try:
        bundle = trial_bundle(actor, protocol())
    except PermissionDenied:
        raise SystemExit(
            f"--as: {args.acting_as}, as {actor.role.label.lower()}, may not export the trial's records: "
            "the roles that open participants' records or download every form's data may"
        ) from None
    with written_whole(args.out) as out:
        out.write(bundle.model_dump_json(indent=2).encode())
    print(f"FHIR bundle of {len(bundle.entry or [])} resources written to {args.out}.", file=sys.stderr)
    return 0


def export_odm(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from django.core.exceptions import PermissionDenied

    from aftercrisis.config.trial import protocol
    from aftercrisis.exchange.odm import write_odm

    actor = acting_as(args.acting_as, args.role)
    try:
        with written_whole(args.out) as out:
            write_odm(actor, protocol(), out)
    except PermissionDenied:
        raise SystemExit(
            f"--as: {args.acting_as}, as {actor.role.label.lower()}, may not export every form's data, "
            "which the ODM file holds"
        ) from None
    print(f"CDISC ODM 1.3.2 file written to {args.out}.", file=sys.stderr)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="acting_as", required=True, metavar="USERNAME", help="the member of staff it is made for"
    )
    parser.add_argument("--role", help="the role they act in, if they hold more than one")
    parser.add_argument("--out", type=Path, required=True, help="file to write")


def register(subparsers: Any) -> None:
    fhir = subparsers.add_parser(
        "export-fhir",
        help="export the trial as an HL7 FHIR R4 Bundle (JSON)",
        description="Write the trial as one FHIR Bundle: the study, its subjects, patients, acute-care "
        "encounters, questionnaires and their responses, holding only what the named member of staff may see "
        "in their role (no arm for a masked role; names and NHS numbers for the trial manager only).",
    )
    _common(fhir)
    fhir.set_defaults(func=export_fhir)
    odm = subparsers.add_parser(
        "export-odm",
        help="export the clinical data with its audit records as CDISC ODM 1.3.2 (XML)",
        description="Write the trial's study design and clinical data, each value with the audit record of its "
        "last change, as a CDISC ODM 1.3.2 file, holding only what the named member of staff may see in their "
        "role. Only the roles that may download every form's data may export it; for others nothing is written.",
    )
    _common(odm)
    odm.set_defaults(func=export_odm)
