#!/usr/bin/env python3
"""Moves the prototype's fleet (its PostgreSQL tables garages(id, name,
address) and vehicles(id, garage_id, brand, model, year, license_plate))
into a running Garage, without loss:

1. reads both tables with psql's \\copy (nothing is written there);
2. creates each garage through the API (one Idempotency-Key per prototype
   garage, so a rerun after a lost answer creates nothing twice) and maps
   the prototype's ids to Garage's;
3. writes the vehicles as an import file with Garage's garage ids, checks it
   with the import's dry run, sets aside every row the dry run refuses (two
   spellings of one plate, a bad year, ...) in rejected.csv with its line
   and reason, and imports the rest in one transaction.

    python3 scripts/from-prototype.py --from postgres://…/prototype \\
        --to https://garage.example.com [--key gar_…] [--out migration/]

Exit status: 0 when everything was imported, 2 when rows were set aside
(they are in rejected.csv, to fix and import from the Import / export page),
1 on failure (nothing imported).
"""

import argparse
import csv
import io
import json
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

COLUMNS = ["garage_id", "brand", "model", "year", "license_plate"]


def copy_out(url, query):
    """Rows of `query` on the prototype's database, as dicts (psql \\copy)."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c",
         f"\\copy ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)"],
        check=True, capture_output=True, text=True,
    ).stdout
    return list(csv.DictReader(io.StringIO(out)))


class Api:
    def __init__(self, base, key):
        self.base = base.rstrip("/") + "/api/v1"
        self.key = key

    def call(self, method, path, body=None, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", required=True, help="the prototype's PostgreSQL URL")
    parser.add_argument("--to", dest="target", required=True, help="Garage's base URL")
    parser.add_argument("--key", help="an admin or write API key, when the service requires one")
    parser.add_argument("--out", default="migration", help="folder for the files it writes")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    api = Api(args.target, args.key)

    garages = copy_out(args.source, "SELECT id, name, address FROM garages ORDER BY id")
    vehicles = copy_out(
        args.source,
        "SELECT id, garage_id, brand, model, year, license_plate FROM vehicles ORDER BY id",
    )
    print(f"prototype: {len(garages)} garages, {len(vehicles)} vehicles")

    ids = {}
    for garage in garages:
        status, body = api.call(
            "POST", "/garages", {"name": garage["name"], "address": garage["address"]},
            headers={"Idempotency-Key": f"prototype-garage-{garage['id']}"},
        )
        if status != 201:
            sys.exit(f"garage {garage['id']} ({garage['name']!r}) was refused: {status} {body}")
        ids[garage["id"]] = body["id"]
    (out / "garage-ids.csv").write_text(
        "prototype_id,garage_id\n" + "".join(f"{old},{new}\n" for old, new in ids.items())
    )
    print(f"garages: {len(ids)} created (prototype id -> Garage id in {out / 'garage-ids.csv'})")

    # Line 1 is the header, so the vehicle at index i is on line i + 2.
    rows = []
    for vehicle in vehicles:
        row = {c: vehicle[c] for c in COLUMNS}
        row["garage_id"] = ids.get(vehicle["garage_id"], f"unknown prototype garage {vehicle['garage_id']}")
        rows.append((vehicle, row))

    def as_csv(selected):
        text = io.StringIO()
        writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for _, row in selected)
        return text.getvalue().encode()

    status, body = api.call("POST", "/vehicles/import?dry_run=true", as_csv(rows), "text/csv")
    reasons = {}
    if status == 422 and body.get("errors"):
        for error in body["errors"]:
            if error.get("line") is None:
                sys.exit(f"the file was refused as a whole: {error['message']}")
            reasons.setdefault(error["line"], []).append(
                f"{error['field']}: {error['message']}" if error.get("field") else error["message"]
            )
    elif status != 200:
        sys.exit(f"the dry run failed: {status} {body}")

    rejected = [(line, vehicle) for line, (vehicle, _) in enumerate(rows, 2) if line in reasons]
    kept = [pair for line, pair in enumerate(rows, 2) if line not in reasons]
    with open(out / "rejected.csv", "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["line", "prototype_id", *COLUMNS, "reason"])
        for line, vehicle in rejected:
            writer.writerow([line, vehicle["id"], *(vehicle[c] for c in COLUMNS), "; ".join(reasons[line])])

    imported = 0
    if kept:
        status, body = api.call(
            "POST", "/vehicles/import", as_csv(kept), "text/csv",
            headers={"Idempotency-Key": f"prototype-vehicles-{len(kept)}-{len(rows)}"},
        )
        if status != 200:
            sys.exit(f"the import failed, nothing was imported: {status} {body}")
        imported = body["imported"]
    print(f"vehicles: {imported} imported, {len(rejected)} set aside in {out / 'rejected.csv'}")
    for line, vehicle in rejected:
        print(f"  line {line} (prototype vehicle {vehicle['id']}, {vehicle['license_plate']}): {'; '.join(reasons[line])}")
    sys.exit(2 if rejected else 0)


if __name__ == "__main__":
    main()
