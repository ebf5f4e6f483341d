"""A short client of the aftercrisis API, with only the standard library.

    AFTERCRISIS_URL=http://127.0.0.1:8000 AFTERCRISIS_TOKEN=… AFTERCRISIS_DATASET_TOKEN=… \\
        python examples/api_client.py [--visit m18]

It lists the participants due a follow-up visit (every visit, or the one given), records an acute-care
episode for the first of them and downloads the analysis dataset. No single role may do all three, so it
takes two tokens, each made on the "API tokens" page (your account menu) while acting in its role:

- AFTERCRISIS_TOKEN, a researcher's: the worklist is a researcher's, and researchers record episodes;
- AFTERCRISIS_DATASET_TOKEN, the trial manager's: the dataset holds the arm, so only a role that sees every
  arm may download it (without it, AFTERCRISIS_TOKEN is tried).

In the demo, sign in as researcher1 for the first and as manager for the second. A step the token's role may
not take says what it needs and the others carry on; the exit status is 1 if any request was refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

NEEDS = {
    "worklist": "a researcher's token in AFTERCRISIS_TOKEN",
    "episode": "a researcher's or the trial manager's token in AFTERCRISIS_TOKEN",
    "analysis dataset": "the trial manager's token in AFTERCRISIS_DATASET_TOKEN",
}


def call(base: str, token: str, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        base + "/api/v1" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # a problem details document: say what it says
        return error.code, error.read()


def problem(step: str, status: int, body: bytes) -> str:
    details = json.loads(body)
    named = "; ".join(": ".join(filter(None, (e["field"], e["message"]))) for e in details.get("errors", []))
    said = f"{status} {details['title']}: {details['detail']} {named}".strip()
    return f"{said} (this step needs {NEEDS[step]})" if status in (401, 403) else said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visit", help="only this visit's code (m4, m18); every visit due by default")
    visit = parser.parse_args(argv).visit
    base = os.environ.get("AFTERCRISIS_URL", "http://127.0.0.1:8000").rstrip("/")
    token = os.environ.get("AFTERCRISIS_TOKEN", "")
    dataset_token = os.environ.get("AFTERCRISIS_DATASET_TOKEN", "") or token
    if not token:
        print("Set AFTERCRISIS_TOKEN to a researcher's token from the API tokens page.", file=sys.stderr)
        return 2
    refused = False

    status, body = call(
        base, token, "GET", "/worklist" + (f"?visit={urllib.parse.quote(visit)}" if visit else "")
    )
    due = json.loads(body) if status == 200 else []
    if status == 200:
        print(
            f"worklist: {len(due)} participants due {f'the {visit} visit' if visit else 'a follow-up visit'}"
        )
        for entry in due[:10]:
            print(f"  {entry['trial_id']} ({entry['site']}): {entry['visit']} {entry['state']}, closes {entry['closes']}")  # fmt: skip
    else:
        refused = True
        print("worklist:", problem("worklist", status, body))

    if due:
        # Ended yesterday: a day ahead of the server's clock, today could be refused as in the future.
        trial_id, end = due[0]["trial_id"], dt.date.today() - dt.timedelta(days=1)
        start = end - dt.timedelta(days=3)
        # The same reference on the same day is refused as already recorded: a second run adds nothing.
        episode = {"trial_id": trial_id, "setting": "crisis_house", "start": start.isoformat(),
                   "end": end.isoformat(), "source_reference": f"example-{trial_id}-{start}"}  # fmt: skip
        status, body = call(base, token, "POST", "/episodes", {"episodes": [episode]})
        if status == 201:
            print(f"episode: a crisis house stay from {start} to {end} recorded for {trial_id}")
        else:
            refused = True
            print("episode:", problem("episode", status, body))
    elif refused:
        print("episode: none posted, for want of the worklist")
    else:
        print("episode: nobody is due a visit, so none was posted")

    status, body = call(base, dataset_token, "GET", "/analysis-dataset.csv")
    if status == 200:
        with open("analysis-dataset.csv", "wb") as out:
            out.write(body)
        print(f"analysis dataset: {len(body.splitlines()) - 1} rows written to analysis-dataset.csv")
    else:
        refused = True
        print("analysis dataset:", problem("analysis dataset", status, body))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
