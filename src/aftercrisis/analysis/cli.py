"""`aftercrisis analyse DATASET --protocol FILE --out DIR`: run the statistical analysis plan.

Everything is computed and written in a scratch directory beside DIR first; DIR receives the
files only when all of them exist, so a bad dataset or a failed step writes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from aftercrisis import __version__

KEY_VARIABLE = "AFTERCRISIS_BLINDING_KEY"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "analyse",
        help="run the statistical analysis plan on an analysis dataset",
        description="Run the protocol's statistical analysis plan on a CSV or Parquet analysis dataset and "
        "write results.json, tables, figures and the report (HTML and PDF) to DIR.",
    )
    parser.add_argument("dataset", type=Path, help="analysis dataset (.csv or .parquet)")
    parser.add_argument("--protocol", type=Path, required=True, help="protocol file (YAML)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--saes", type=Path, help="serious adverse events (CSV: participant_id[, category])")
    parser.add_argument(
        "--enrolment",
        type=Path,
        help='screening counts for the CONSORT diagram (JSON: {"assessed": N, "excluded": {"reason": n}})',
    )
    parser.add_argument(
        "--blinded",
        action="store_true",
        help=f"label arms A and B; the mapping comes from the key in ${KEY_VARIABLE} or --blinding-key-file",
    )
    parser.add_argument("--blinding-key-file", type=Path, help="file holding the blinding key")
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML report only")
    parser.set_defaults(func=handle)

    export = subparsers.add_parser(
        "export-dataset",
        help="validate an analysis dataset and export it as CSV, Parquet, Stata and a data dictionary",
    )
    export.add_argument("dataset", type=Path, help="analysis dataset (.csv or .parquet)")
    export.add_argument("--out", type=Path, required=True, help="output directory")
    export.add_argument(
        "--protocol", type=Path, help="protocol file, to check the site codes and the resource-use columns"
    )
    export.set_defaults(func=handle_export)


def _fail(message: str) -> int:
    print(f"aftercrisis analyse: {message}", file=sys.stderr)
    return 2


def _enrolment(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--enrolment {path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("assessed"), int):
        raise ValueError(f"--enrolment {path}: needs an integer 'assessed'")
    excluded = data.get("excluded", {})
    if not isinstance(excluded, dict) or not all(isinstance(v, int) for v in excluded.values()):
        raise ValueError(f"--enrolment {path}: 'excluded' must map each reason to a whole number")
    return data


def handle(args: argparse.Namespace) -> int:
    # imported here so that other commands do not pay for loading the statistics stack
    from tqdm import tqdm

    from aftercrisis.analysis.blinding import arm_labels
    from aftercrisis.analysis.consort import ConsortError, disposition_from_dataset
    from aftercrisis.analysis.dataset import DatasetError, load_dataset, sha256_of
    from aftercrisis.analysis.economics import counted
    from aftercrisis.analysis.run import run_plan, write_outputs
    from aftercrisis.analysis.safety import read_saes
    from aftercrisis.protocol import ProtocolError, load_protocol
    from aftercrisis.reporting.report import Stamp, render_html, write_report

    try:
        protocol = load_protocol(args.protocol)
    except (ProtocolError, OSError) as error:
        return _fail(f"protocol {args.protocol}: {error}")
    if not args.dataset.exists():
        return _fail(f"dataset {args.dataset} does not exist")
    economics = protocol.health_economics
    try:
        frame = load_dataset(
            args.dataset,
            sites=[s.code for s in protocol.sites],
            resources=counted(economics) if economics else None,
        )
        saes = read_saes(str(args.saes), frame["participant_id"]) if args.saes else None
        enrolment = _enrolment(args.enrolment) if args.enrolment else None
    except DatasetError as error:
        print(f"aftercrisis analyse: {args.dataset}: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        return _fail(str(error))

    key = None
    if args.blinded:
        key = args.blinding_key_file.read_text(encoding="utf-8").strip() if args.blinding_key_file else None
        key = key or os.environ.get(KEY_VARIABLE, "").strip()
        if not key:
            return _fail(f"--blinded needs a key: set ${KEY_VARIABLE} or pass --blinding-key-file")
    labels = arm_labels(
        blinded=args.blinded,
        key=key,
        names={a.code: a.name for a in protocol.arms},
    )
    if enrolment is not None:
        # check the screening counts against the dataset before the long computation
        try:
            disposition_from_dataset(
                frame,
                labels,
                outcome=protocol.analysis.primary.outcome,
                assessed=enrolment["assessed"],
                excluded=enrolment.get("excluded", {}),
            ).check()
        except ConsortError as error:
            return _fail(f"--enrolment {args.enrolment}: {error}")
    stamp = Stamp(
        dataset_sha256=sha256_of(args.dataset),
        protocol_version=protocol.trial.protocol_version,
        software_version=__version__,
        generated_at=dt.datetime.now(dt.UTC),
        blinded=args.blinded,
    )
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".analyse-", dir=out.parent))
    try:
        # baseline, primary, time to event, secondary, subgroups, imputation, CONSORT, report; CACE; SAEs;
        # health economics
        steps = 8 + (not args.blinded) + (saes is not None) + (economics is not None)
        with tqdm(total=steps, desc="analysis", unit="step", file=sys.stderr, leave=False) as bar:

            def step(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            imputation = tqdm(
                total=protocol.analysis.imputation.datasets,
                desc="imputation",
                unit="dataset",
                file=sys.stderr,
                leave=False,
            )
            with imputation:
                outputs = run_plan(
                    frame,
                    protocol.analysis,
                    labels,
                    saes=saes,
                    enrolment=enrolment,
                    step=step,
                    imputation_progress=lambda done: imputation.update(done - imputation.n),
                    economics=economics,
                )
            outputs.results = {"stamp": stamp.as_dict(), **outputs.results}
            write_outputs(outputs, scratch)
            step("report")
            if args.no_pdf:
                figures = {n: (scratch / "figures" / f"{n}.svg").read_bytes() for n in outputs.figures}
                html = render_html(outputs, stamp, trial=protocol.trial.short_name, figures=figures)
                (scratch / "report.html").write_text(html, encoding="utf-8")
            else:
                write_report(outputs, stamp, scratch, trial=protocol.trial.short_name)
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(scratch.rglob("*")):
            target = out / item.relative_to(scratch)
            if item.is_dir():
                target.mkdir(exist_ok=True)
            else:
                os.replace(item, target)
    except (ValueError, ConsortError) as error:
        return _fail(str(error))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {out / 'results.json'}, {out / 'report.html'} and the tables and figures under {out}")
    return 0


def handle_export(args: argparse.Namespace) -> int:
    from aftercrisis.analysis.dataset import DatasetError, load_dataset
    from aftercrisis.analysis.economics import counted
    from aftercrisis.analysis.exports import export_all
    from aftercrisis.protocol import ProtocolError, load_protocol

    sites = resources = None
    if args.protocol:
        try:
            protocol = load_protocol(args.protocol)
        except (ProtocolError, OSError) as error:
            return _fail(f"protocol {args.protocol}: {error}")
        sites = [s.code for s in protocol.sites]
        resources = counted(protocol.health_economics) if protocol.health_economics else None
    if not args.dataset.exists():
        return _fail(f"dataset {args.dataset} does not exist")
    try:
        frame = load_dataset(args.dataset, sites=sites, resources=resources)
    except DatasetError as error:
        print(f"aftercrisis export-dataset: {args.dataset}: {error}", file=sys.stderr)
        return 1
    for path in export_all(frame, args.out):
        print(path)
    return 0
