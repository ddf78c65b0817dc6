"""The texts the modeler's scripts show, translated here (the scripts hold none of their own).

``panel_translations`` feeds bpmn-js's ``translate`` service: the properties panel's and the
palette's English texts, in the page's language (those not listed stay in English).
"""

from __future__ import annotations

from flask_babel import gettext as _


def common_labels() -> dict[str, str]:
    return {
        "saving": _("Enregistrement…"),
        "failed": _("L’opération a échoué."),
        "loaded": _("Modèle chargé."),
    }


def bpmn_labels() -> dict[str, str]:
    return common_labels() | {
        "canvas": _("Diagramme BPMN modifiable (raccourcis clavier de bpmn-js : voir l’aide sous le diagramme)"),
        "checking": _("Vérification par le serveur…"),
        "noProblem": _("Aucun problème : le serveur accepterait ce brouillon au déploiement."),
        "problemsFound": _("{n} problème(s) trouvé(s) : voir la liste sous le diagramme."),
        "group": _("DSDT (SpiffWorkflow)"),
        "formSchema": _("Formulaire : fichier JSON Schema"),
        "formUi": _("Formulaire : fichier UI schema"),
        "formVariable": _("Variable des données du formulaire"),
        "instructions": _("Consignes affichées à la personne"),
        "script": _("Script (Python restreint)"),
        "decision": _("Table de décision appelée (identifiant DMN)"),
        "calledElement": _("Processus appelé (identifiant)"),
        "preScript": _("Script avant l’étape"),
        "postScript": _("Script après l’étape"),
        "condition": _("Condition (expression Python)"),
    }


def panel_translations() -> dict[str, str]:
    return {
        "General": _("Général"),
        "Name": _("Nom"),
        "ID": _("Identifiant"),
        "Documentation": _("Documentation"),
        "Element documentation": _("Documentation de l’élément"),
        "Timer": _("Minuteur"),
        "Type": _("Type"),
        "Value": _("Valeur"),
        "Date": _("Date"),
        "Duration": _("Durée"),
        "Cycle": _("Cycle"),
        "<none>": _("<aucun>"),
        "Message": _("Message"),
        "Signal": _("Signal"),
        "Multi-instance": _("Instances multiples"),
        "Process": _("Processus"),
        "Executable": _("Exécutable"),
        "Create {type}": _("Créer : {type}"),
        "Append {type}": _("Ajouter après : {type}"),
    }
