"""The three steps of bench/wizard_load.py's ``bench_loop`` workflow, four required fields each, same rules."""

from django import forms

TEXT = {"min_length": 2, "max_length": 80}
NUMBER = {"min_value": 0, "max_value": 100_000_000}


class Entry(forms.Form):
    full_name = forms.CharField(label="Nom", **TEXT)
    quantity = forms.IntegerField(label="Quantité", **NUMBER)
    colour = forms.ChoiceField(label="Couleur", choices=[("red", "Rouge"), ("green", "Vert"), ("blue", "Bleu")])
    city = forms.CharField(label="Ville", **TEXT)


class Details(forms.Form):
    team = forms.CharField(label="Équipe", **TEXT)
    members = forms.IntegerField(label="Membres", **NUMBER)
    size = forms.ChoiceField(label="Taille", choices=[("small", "Petite"), ("medium", "Moyenne"), ("large", "Grande")])
    street = forms.CharField(label="Rue", **TEXT)


class Extra(forms.Form):
    nickname = forms.CharField(label="Surnom", **TEXT)
    budget = forms.IntegerField(label="Budget", **NUMBER)
    shape = forms.ChoiceField(label="Forme", choices=[("circle", "Cercle"), ("square", "Carré"), ("star", "Étoile")])
    region = forms.CharField(label="Région", **TEXT)
