"""Department (or overseas collectivity) codes: one rule from a commune's INSEE code to its code, and one parser
of codes, over every code of the shipped data (2A/2B, 971-976, 975, 977, 978, 984, 986-989).

Nouméa, Papeete and Uvea used to share a department ``98``, and ``department:988`` (or 975, 977, 978...) was
neither an audience, nor a scope, nor a list: the members of the collectivities could not be reached."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.campaigns import audiences, lists
from engagement.geo import departments
from engagement.geo.communes import Commune, department_of, directory

OVERSEAS = ("971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988", "989")
REFUSED = ("98", "99", "20", "97", "96", "00", "2C", "9888", "979", "985", "990", "", "7 5", "９８８")


def shipped_codes() -> list[str]:
    """Every department or collectivity code the commune file names, in file order."""
    return list(dict.fromkeys(commune.department for commune in directory().by_code.values()))


def first_with_postal_code(code: str) -> tuple[Commune, str] | None:
    """The first commune of ``code`` that has a postal code, and that code (None: nobody lives there)."""
    for commune in directory().by_code.values():
        if commune.department == code:
            for postal_code, carried in directory().by_postal_code.items():
                if commune in carried:
                    return commune, postal_code
    return None


def address(postal_code: str, city: str = "") -> dict[str, str]:
    return {"street": "1 rue de la Paix", "postal_code": postal_code, "city": city, "city_name": "", "country": "FR"}


def test_the_data_names_every_overseas_code_and_corsica_apart():
    codes = shipped_codes()
    assert {code for code in codes if len(code) == 3} == set(OVERSEAS)
    assert {"2A", "2B"} <= set(codes) and "20" not in codes and "98" not in codes
    assert len(codes) == 96 + len(OVERSEAS)  # 94 metropolitan numbers (no 20) and Corsica's two


def test_every_commune_s_department_follows_from_its_insee_code():
    for commune in directory().by_code.values():
        assert department_of({"city": commune.code, "country": "FR"}) == commune.department, commune.code


@pytest.mark.parametrize("code", [*OVERSEAS, "2A", "2B"])
def test_an_address_in_an_overseas_territory_or_corsica_has_its_own_code(code):
    found = first_with_postal_code(code)
    if found is None:
        assert code == "984"  # the Southern and Antarctic Lands have no postal code
        return
    commune, postal_code = found
    assert department_of(address(postal_code, commune.code)) == code
    assert User(address=address(postal_code, commune.code)).department == code


@pytest.mark.parametrize(("postal_code", "code"), [
    ("98800", "988"), ("98714", "987"), ("98600", "986"), ("97500", "975"), ("97133", "977"), ("97150", "978"),
    ("97600", "976"), ("97110", "971"), ("20000", "2A"), ("20200", "2B"), ("75011", "75"),
])
def test_an_address_without_its_commune_takes_the_code_of_its_postal_code_s_communes(postal_code, code):
    assert department_of(address(postal_code)) == code  # 97133 and 97150 are Saint-Barthélemy's, Saint-Martin's


@pytest.mark.parametrize("given", [address("99999"), address("98000"), address("05110"), {"country": "BE"},
                                   {"city": "98", "country": "FR"}, {"city": "99138", "country": "FR"}, None])
def test_an_address_that_names_no_single_department_has_none(given):
    # 05110 is carried by communes of 04 and 05: without the commune, no guess.
    assert department_of(given) is None


def test_every_shipped_code_parses_and_has_a_name():
    for code in shipped_codes():
        assert departments.parse(code) == code and departments.parse(f" {code.lower()} ") == code
        assert departments.name_of(code), code
    assert set(departments.codes()) == set(shipped_codes()) and len(departments.codes()) == len(shipped_codes())
    assert departments.codes().index("2A") == departments.codes().index("19") + 1  # INSEE order
    assert departments.label("988") == "Nouvelle-Calédonie (988)" and departments.label("2a") == "Corse-du-Sud (2A)"


@pytest.mark.parametrize("code", REFUSED)
def test_a_code_that_names_no_department_is_refused(code):
    assert departments.parse(code) is None and departments.name_of(code) is None


@pytest.mark.parametrize("code", [*OVERSEAS, "2A", "2B", "75", "01"])
def test_every_code_is_an_audience_a_scope_and_a_list(session: Session, code):
    assert audiences.parse(session, f"department:{code.lower()}").code == code
    assert scopes.parse(session, f"department:{code}").department == code
    assert scopes.reaches(session, scopes.EVERYWHERE, f"department:{code}")
    assert lists.key_of(session, f"department:{code}") == f"department:{code}"


@pytest.mark.parametrize("code", ["98", "99", "20", "979", "2C"])
def test_a_code_that_names_no_department_is_neither_an_audience_nor_a_scope(session: Session, code):
    with pytest.raises(audiences.AudienceError):
        audiences.parse(session, f"department:{code}")
    with pytest.raises(scopes.ScopeError):
        scopes.parse(session, f"department:{code}")
    assert not scopes.reaches(session, scopes.EVERYWHERE, f"department:{code}")
    assert lists.key_of(session, f"department:{code}") is None


def test_a_national_organizer_may_write_to_every_department_and_collectivity(session: Session):
    admin = User(email="admin@example.org", role="admin")
    offered = [spec for spec in scopes.audiences(session, admin) if spec.startswith("department:")]
    assert offered == [f"department:{code}" for code in departments.codes()]
    assert {"department:988", "department:975", "department:977", "department:2A"} <= set(offered)
