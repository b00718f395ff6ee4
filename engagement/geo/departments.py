"""French departments and overseas collectivities by official code: the one parser of a code, for audiences,
scopes, lists and filters alike.

The codes there are come from the shipped commune data (``CommuneDirectory.departments``): the 101 departments
(2A and 2B for Corsica, 971 to 976 overseas) and the collectivities whose communes it holds (975, 977, 978,
984, 986, 987, 988, 989). ``NAMES`` only names them, in INSEE order; a test keeps the two in step.
"""

from __future__ import annotations

from functools import cache

from engagement.geo.communes import directory

NAMES: dict[str, str] = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence", "05": "Hautes-Alpes",
    "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes", "09": "Ariège", "10": "Aube",
    "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône", "14": "Calvados", "15": "Cantal",
    "16": "Charente", "17": "Charente-Maritime", "18": "Cher", "19": "Corrèze",
    "2A": "Corse-du-Sud", "2B": "Haute-Corse",
    "21": "Côte-d'Or", "22": "Côtes-d'Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs",
    "26": "Drôme", "27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard",
    "31": "Haute-Garonne", "32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine",
    "36": "Indre", "37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes",
    "41": "Loir-et-Cher", "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret",
    "46": "Lot", "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche",
    "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle", "55": "Meuse",
    "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise",
    "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin",
    "69": "Rhône", "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie",
    "74": "Haute-Savoie", "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne",
    "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne",
    "83": "Var", "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne",
    "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne",
    "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
    "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon", "976": "Mayotte", "977": "Saint-Barthélemy", "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises", "986": "Wallis-et-Futuna", "987": "Polynésie française",
    "988": "Nouvelle-Calédonie", "989": "Clipperton",
}


def parse(code: str) -> str | None:
    """The department or collectivity ``code`` names, normalized (" 2a " -> "2A"); None for one the shipped
    data does not hold (98, 99, 20, a fullwidth digit...)."""
    normal = code.strip().upper()
    return normal if normal in directory().departments else None


@cache
def codes() -> tuple[str, ...]:
    """Every code there is, in INSEE order (01 ... 19, 2A, 2B, 21 ... 95, 971 ... 989)."""
    shipped = directory().departments
    return (*(code for code in NAMES if code in shipped), *sorted(shipped - NAMES.keys()))


def name_of(code: str) -> str | None:
    """"Nouvelle-Calédonie" for 988; None for a code that names nothing."""
    found = parse(code)
    return NAMES.get(found) if found else None


def label(code: str) -> str:
    """"Paris (75)", "Nouvelle-Calédonie (988)"; the bare code for one without a name."""
    name = name_of(code)
    return f"{name} ({code.strip().upper()})" if name else code.strip().upper()
