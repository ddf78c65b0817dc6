"""The texts the modeler's scripts show, translated here (the scripts hold none of their own).

``panel_translations`` feeds bpmn-js's ``translate`` service: the properties panel's and the
palette's English texts, in the page's language (those not listed stay in English).
"""

from __future__ import annotations

from flask_babel import gettext as _

from engine import roles


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
        "laneRole": _("Rôle qui tient les étapes du couloir"),
        "laneRoleHelp": _("Le nom du couloir est le rôle que le moteur lit : seuls les rôles connus sont acceptés."),
        "noRole": _("<choisir un rôle>"),
        "unknownRole": _("rôle inconnu, refusé au déploiement"),
        "messageVariable": _("Variable recevant les données du message"),
        "messageVariableHelp": _("La corrélation se fait par les données : le dossier reçoit le message quand ses "
                                 "données portent chaque clé de corrélation envoyée (par exemple dossier_ref)."),
    }


def _role_label(code: str | None) -> str:
    return _("aucune personne : étapes automatiques") if code is None else code


def lane_roles() -> list[dict]:
    """The lane names the engine knows (:data:`engine.roles.LANE_ROLES`), each with its role code:
    the options of a lane's role in the properties panel."""
    return [{"name": name, "role": code, "label": f"{name} ({_role_label(code)})"}
            for name, code in roles.LANE_ROLES.items()]


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
