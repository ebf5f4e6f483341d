"""A short client of the aftercrisis API, with only the standard library.

    AFTERCRISIS_URL=http://127.0.0.1:8000 AFTERCRISIS_TOKEN=… python examples/api_client.py

Create the token on the "API tokens" page (your account menu): a researcher's token lists the 4-month
visits due and records an episode; the analysis dataset needs a role that sees every arm (the trial
manager's), so with a researcher's token that step says it is not allowed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("AFTERCRISIS_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v1"
TOKEN = os.environ.get("AFTERCRISIS_TOKEN", "")


def call(method: str, path: str, body: object = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # a problem details document: say what it says
        return error.code, error.read()


def problem(status: int, body: bytes) -> str:
    details = json.loads(body)
    named = "; ".join(f"{e['field'] or '-'}: {e['message']}" for e in details.get("errors", []))
    return f"{status} {details['title']}: {details['detail']} {named}".strip()


def main() -> int:
    if not TOKEN:
        print("Set AFTERCRISIS_TOKEN to a token from the API tokens page.", file=sys.stderr)
        return 2
    status, body = call("GET", "/worklist?visit=m4")
    if status != 200:
        print("worklist:", problem(status, body))
        return 1
    due = json.loads(body)
    print(f"{len(due)} participants due a 4-month visit")
    for entry in due[:10]:
        print(f"  {entry['trial_id']} ({entry['site']}): {entry['state']}, closes {entry['closes']}")
    if due:
        start = dt.date.today() - dt.timedelta(days=3)
        episode = {"trial_id": due[0]["trial_id"], "setting": "crisis_house", "start": start.isoformat(),
                   "end": dt.date.today().isoformat(), "source_reference": f"example-{due[0]['trial_id']}-{start}"}  # fmt: skip
        status, body = call("POST", "/episodes", {"episodes": [episode]})
        print(
            "episode:", f"{json.loads(body)['recorded']} recorded" if status == 201 else problem(status, body)
        )
    status, body = call("GET", "/analysis-dataset.csv")
    if status == 200:
        with open("analysis-dataset.csv", "wb") as out:
            out.write(body)
        rows = len(body.splitlines()) - 1
        print(f"analysis dataset: {rows} rows written to analysis-dataset.csv")
    else:
        print("analysis dataset:", problem(status, body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
