"""What a person reads for an engine error: its ``code`` looked up here, translated, filled with
its ``params``. The engine's own (English) message is for logs only.

Every code the engine raises has an entry (``tests/webapp/test_errors.py`` checks the engine's
raise sites against this table). An error with only its class's default code was raised by the
web layer itself, already translated: its message is shown as it is.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import lazy_gettext as _l

from engine import EngineError, Invalid

from .filters import when

log = logging.getLogger(__name__)

DEFAULT_CODES = frozenset({"engine_error", "not_found", "conflict", "forbidden", "invalid", "script_failed",
                           "mail_failed"})

MESSAGES = {
    # accounts and logins
    "account.invalid": _l("Corrigez les champs indiqués."),
    "account.login_format": _l(
        "De 2 à 63 caractères : lettres minuscules, chiffres, « . », « _ » ou « - », "
        "en commençant par une lettre ou un chiffre."
    ),
    "account.unknown_roles": _l("Rôles inconnus : %(unknown_roles)s."),
    "account.password_short": _l("Le mot de passe doit avoir au moins %(min_password)s caractères."),
    "account.login_taken": _l("L’identifiant %(login)s existe déjà : choisissez-en un autre."),
    "account.not_found": _l("L’utilisateur %(login)s n’existe pas."),
    "login.failed": _l("Identifiant ou mot de passe incorrect."),
    "login.throttled": _l("Trop d’essais infructueux depuis ce poste : réessayez après %(until)s."),
    "token.invalid": _l("Jeton d’API inconnu ou révoqué."),
    "account.password_long": _l("Le mot de passe peut avoir au plus %(max_password)s caractères."),
    # self-service registration and password reset (engine.registration)
    "registration.required": _l("Ce champ est obligatoire."),
    "registration.too_long": _l("Au plus %(limit)s caractères."),
    "registration.identifier_format": _l(
        "Indiquez un SIRET (14 chiffres, clé de contrôle valide) ou un numéro RNA (W suivi de 9 chiffres)."
    ),
    "registration.email_format": _l("Indiquez une adresse électronique, par exemple nom@exemple.org."),
    "link.expired": _l("Ce lien a expiré : demandez-en un nouveau."),
    "link.invalid": _l("Ce lien n’est pas valide ou a déjà servi : demandez-en un nouveau."),
    "organisation.none": _l("Votre compte n’appartient à aucune association : vous ne pouvez pas inviter."),
    "organisation.members_count": _l("Une association se crée avec 1 à %(limit)s membres."),
    "organisation.member_refused": _l(
        "Le compte %(login)s ne peut pas rejoindre l’association : ce doit être un porteur actif sans association."
    ),
    # dossiers, tasks and commands
    "dossier.not_found": _l("Ce dossier n’existe pas."),
    "dossier.changed": _l("Ce dossier a changé depuis que vous l’avez ouvert : rechargez-le et recommencez."),
    "dossier.concurrent": _l(
        "Quelqu’un d’autre a modifié ce dossier au même moment : rechargez-le et recommencez."
    ),
    "dossier.closed": _l("Ce dossier est clos."),
    "dossier.start_forbidden": _l("Seul un porteur de projet peut déposer une candidature."),
    "withdraw.forbidden": _l("Seul le porteur de cette candidature peut la retirer."),
    "withdraw.reason_required": _l("Indiquez le motif de votre retrait."),
    "withdraw.too_late": _l("Cette candidature ne peut plus être retirée."),
    "convention.start_forbidden": _l(
        "Seul un instructeur de la Région ou un technicien de cet EPCI peut ouvrir sa convention DSDT."),
    "convention.unknown_epci": _l("L’EPCI %(epci)s ne participe pas à cette campagne."),
    "convention.already_running": _l(
        "L’EPCI %(epci)s a déjà une convention en cours de négociation (%(ref)s)."),
    "convention.read_forbidden": _l(
        "Seuls les agents de la Région et les techniciens de l’EPCI consultent ses conventions DSDT."),
    "convention.not_found": _l("Aucune convention DSDT n°%(id)s que vous puissiez consulter."),
    "convention.unknown_campaign": _l("Choisissez une campagne ouverte (%(campaign)s ne l’est pas)."),
    "migration.family_missing": _l(
        "Rien n’a été migré : %(ref)s est une instance de la famille %(family)s, que la version %(version)s "
        "ne contient pas."),
    "task.not_open": _l(
        "Cette étape n’est plus ouverte : elle a été faite, le dossier a été retiré ou son échéance est "
        "passée. Rechargez le dossier pour voir son étape actuelle."
    ),
    "task.not_found": _l("Cette étape n’existe pas dans ce dossier."),
    "task.not_claimed": _l("Vous n’avez pas pris en charge cette étape."),
    "task.not_delegable": _l(
        "Cette étape est attribuée par le processus à une personne : elle ne peut pas être déléguée."
    ),
    "task.wrong_role": _l("L’étape « %(step)s » revient au rôle %(role)s, que vous n’avez pas."),
    "task.assigned_to_another": _l("L’étape « %(step)s » est attribuée à quelqu’un d’autre."),
    "task.outside_epci": _l("Ce dossier relève d’un EPCI hors de votre périmètre."),
    "task.claimed_by_another": _l("%(login)s a pris en charge cette étape."),
    "role.read_only": _l("Votre rôle permet de consulter les dossiers, pas de les modifier."),
    "message.not_awaited": _l("Plus rien dans ce dossier n’attend « %(message)s »."),
    "command.unknown": _l("Commande inconnue : %(command)s."),
    # messages and signals sent to dossiers (dsdt message, dsdt signal)
    "event.forbidden": _l(
        "Seuls un instructeur ou un administrateur peuvent envoyer messages et signaux aux dossiers."
    ),
    "event.name_required": _l("Donnez le nom du message ou du signal, tel que le modèle BPMN le déclare."),
    "event.correlation_required": _l(
        "Un message a besoin d’au moins une clé de corrélation (par exemple dossier_ref=…) ; "
        "pour tous les dossiers en attente, envoyez un signal."
    ),
    "event.invalid": _l("Message ou signal invalide (%(detail)s) : corrigez-le et envoyez-le à nouveau."),
    "event.not_awaited": _l("Ce dossier n’attend pas ce message."),
    "event.no_receiver": _l("Aucun dossier en cours correspondant à la corrélation n’attend le message %(message)s."),
    "signal.not_awaited": _l("Plus rien dans ce dossier n’attend le signal « %(signal)s »."),
    # audit
    "audit.date_field": _l("Choisissez la date de dépôt ou celle de la dernière activité."),
    "audit.export_too_large": _l(
        "%(total)s dossiers correspondent : affinez la recherche pour en exporter %(limit)s au plus."
    ),
    "export.format": _l("Format d’export inconnu « %(value)s » : choisissez parmi %(formats)s."),
    "export.archive_too_large": _l(
        "Les pièces du dossier pèsent %(size)s octets, plus qu’une archive n’en contient (%(limit)s octets)."
    ),
    "replay.entry": _l("Ce dossier n’a pas d’entrée n° %(entry)s : son journal va de l’entrée 1 à l’entrée %(total)s."),
    "replay.too_long": _l(
        "Ce dossier compte %(total)s entrées de journal ; le rejeu pas à pas s’arrête à %(limit)s : "
        "utilisez « dsdt verify »."
    ),
    # campaigns
    "campaign.not_found": _l("La campagne %(campaign)s n’existe pas."),
    "campaign.closed": _l("La campagne %(campaign)s est close aux nouvelles candidatures."),
    "campaign.bad_date": _l("Campagne %(campaign)s : %(key)s doit être une date et heure ISO avec son fuseau."),
    "campaign.bad_delay": _l("Campagne %(campaign)s : les délais de traitement sont des nombres entiers de jours "
                             "(de 1 à %(max)s) par étape."),
    "campaign.juries_are_data": _l("Campagne %(campaign)s : les jurys se gèrent dans l’administration des jurys, "
                                   "pas dans les données de la campagne."),
    # juries (engine.juries, engine.jury_admin)
    "jury.not_found": _l("Le jury %(jury)s n’existe pas."),
    "jury.seat_not_found": _l("Ce siège de jury n’existe pas."),
    "jury.no_intercommunal": _l("Jury %(jury)s au %(day)s : un jury territorial compte au moins un élu "
                                "intercommunal de son EPCI."),
    "jury.no_regional": _l("Jury %(jury)s au %(day)s : un jury territorial compte au moins un élu régional."),
    "jury.other_epci": _l("Jury %(jury)s au %(day)s : un jury territorial ne compte aucun élu d’un autre EPCI."),
    "jury.regional_only": _l("Jury %(jury)s au %(day)s : un jury régional ne compte que des élus régionaux, "
                             "au moins un."),
    "jury.president": _l("Jury %(jury)s au %(day)s : il faut exactement un président parmi les membres "
                         "(%(count)s trouvés)."),
    "jury.quorum": _l("Jury %(jury)s : le quorum (%(quorum)s) doit aller de 1 au nombre de membres (%(members)s)."),
    "jury.bad_login": _l("Identifiant : lettres minuscules, chiffres, « . », « _ » ou « - » (2 à 80)."),
    "jury.bad_name": _l("Le nom compte de 1 à %(max)s caractères."),
    "jury.bad_kind": _l("Le type de membre est « élu intercommunal » ou « élu régional »."),
    "jury.bad_epci": _l("Un élu intercommunal a un EPCI ; un élu régional n’en a pas."),
    "jury.bad_term": _l("Un mandat commence à une date et finit le même jour ou après."),
    "jury.too_many": _l("Un jury compte au plus %(max)s sièges."),
    # jury sessions: impossibility, attendance (engine.jury_sessions)
    "jury.session_not_found": _l("Le jury %(jury)s n’a pas de session pour la campagne %(campaign)s."),
    "jury.impossibility_forbidden": _l("Seul un instructeur de la Région déclare l’impossibilité d’une session "
                                       "de jury."),
    "jury.motif_required": _l("Indiquez le motif de l’impossibilité."),
    "jury.not_territorial": _l("Seule la session d’un jury territorial peut être impossible : le jury régional "
                               "est le dernier recours."),
    "jury.already_impossible": _l("La session du jury %(jury)s est déjà impossible."),
    "jury.not_impossible": _l("La session du jury %(jury)s n’est pas impossible."),
    "jury.nothing_waiting": _l("Aucun dossier n’attend l’examen du jury %(jury)s du %(day)s."),
    "jury.not_president": _l("Seul le président de la session du jury %(jury)s enregistre les présences."),
    "jury.bad_attendance": _l("Indiquez les membres présents."),
    "jury.not_member": _l("%(login)s ne siège pas au jury %(jury)s à la date de la session."),
    "jury.minutes_empty": _l("Le procès-verbal du jury %(jury)s ne compte encore aucun dossier."),
    "jury.minutes_confirmed": _l("Ce procès-verbal du jury %(jury)s est déjà confirmé."),
    "jury.minutes_closed": _l("Tous les dossiers de ce procès-verbal du jury %(jury)s sont clos : rien ne peut "
                              "enregistrer sa confirmation."),
    # forms and attachments
    "form.not_object": _l("Les données du formulaire doivent former un objet."),
    "form.too_large": _l("Le formulaire dépasse %(kib)s Kio : joignez les longs documents en fichiers."),
    "form.errors": _l("Le formulaire comporte des erreurs : corrigez les champs signalés."),
    "draft.too_large": _l("Le brouillon dépasse %(limit_kib)s Kio : joignez les longs documents en fichiers."),
    # process owners' model drafts (engine.model_drafts)
    "model_draft.bad_name": _l(
        "Un nom de brouillon a de 1 à 80 lettres, chiffres, « . », « _ » ou « - », "
        "en commençant par une lettre ou un chiffre."
    ),
    "model_draft.bad_path": _l(
        "« %(path)s » n’est pas un nom de fichier de modèle : processes/NOM.bpmn, .dmn ou .json, ou forms/NOM.json."
    ),
    "model_draft.file_too_large": _l("Le fichier %(path)s dépasse %(limit_kib)s Kio."),
    "model_draft.too_large": _l("Les fichiers du brouillon dépassent %(limit_kib)s Kio au total."),
    "model_draft.too_many_files": _l("Un brouillon contient au plus %(limit)s fichiers."),
    "model_draft.too_many": _l("Il y a déjà %(limit)s brouillons : supprimez-en un d’abord."),
    "model_draft.exists": _l("Un brouillon nommé %(name)s existe déjà : choisissez un autre nom."),
    "model_draft.not_found": _l("Le brouillon %(name)s n’existe pas."),
    "model_draft.form_too_large": _l("Le %(which)s dépasse %(limit_kib)s Kio."),
    "model_draft.form_not_json": _l("Le %(which)s n’est pas un objet JSON : %(detail)s"),
    "model_draft.form_not_schema": _l("Ce n’est pas un JSON Schema de formulaire utilisable : %(detail)s"),
    "model_draft.conflict": _l(
        "%(by)s a enregistré le brouillon %(name)s entre-temps (révision %(revision)s ; votre version partait "
        "de la révision %(expected)s) : rechargez-le et refaites vos modifications."
    ),
    "input.too_long": _l("Le champ %(field)s dépasse %(limit)s caractères : raccourcissez-le."),
    "form.unbounded": _l("Champs de formulaire sans limite : %(problems)s"),
    "attachment.empty": _l("Le fichier est vide."),
    "attachment.too_large": _l("Le fichier dépasse %(limit)s : réduisez-le ou compressez-le."),
    "attachment.type_refused": _l(
        "Type de fichier refusé : déposez un PDF, une image PNG ou JPEG, ou un document "
        "ODT, ODS, DOCX ou XLSX (extension conforme au contenu)."
    ),
    "attachment.not_found": _l("Ce document n’existe pas dans ce dossier."),
    "attachment.foreign": _l("Ce n’est pas une pièce jointe de ce dossier : déposez le fichier dans ce formulaire."),
    "receipt.not_found": _l("Aucun dépôt du porteur ne correspond à ce récépissé dans ce dossier."),
    # models and deployments (read by process owners)
    "deployment.none": _l("Aucun modèle déployé : lancez d’abord « dsdt deploy »."),
    "deployment.not_found": _l("Le déploiement %(deployment_id)s n’existe pas."),
    # versions and migrations of running dossiers (engine/migration.py, engine/dossier_migrations.py)
    "version.not_found": _l("La version %(version)s n’existe pas."),
    "migration.reason_required": _l("Indiquez le motif de la migration."),
    "migration.reason_too_long": _l("Le motif est trop long (%(max)s caractères au plus)."),
    "migration.incompatible": _l("Aucun dossier n’a été migré. Étapes incompatibles : %(steps)s"),
    "migration.selection": _l("Indiquez soit les dossiers à migrer, soit la version dont tous les dossiers migrent."),
    "migration.too_many": _l("%(max)s dossiers au plus par migration."),
    "migration.dossier_not_found": _l("Dossier introuvable : %(refs)s"),
    "migration.dossier_closed": _l("Les dossiers clos restent sur leur version : %(refs)s"),
    "migration.forbidden": _l("Seuls les responsables de processus migrent des dossiers."),
    # test against history (engine/history_check_jobs.py)
    "history_check.forbidden": _l("Seuls les responsables de processus testent des modèles sur l’historique."),
    "history_check.source": _l("Indiquez un brouillon ou une version à tester."),
    "history_check.busy": _l("%(max)s tests sur l’historique sont déjà en cours : réessayez plus tard."),
    "history_check.not_found": _l("Ce test sur l’historique n’existe pas."),
    "model.invalid": _l("Modèle invalide : %(detail)s"),
    "model.import_refused": _l("Import refusé, rien n’a été enregistré : %(detail)s"),
    "model.script_invalid": _l(
        "Ce script ou cette expression ne peut pas s’exécuter : %(detail)s. Corrigez-le dans le modeleur, "
        "puis déployez à nouveau."
    ),
    "model.failed": _l("Une règle du processus a échoué."),
    "outbox.state": _l("L’état « %(state)s » n’existe pas : choisissez un état de la liste."),
    # incidents
    "incident.not_found": _l("L’incident %(incident_id)s n’existe pas."),
    "incident.resolved": _l("Cet incident est déjà résolu."),
    "incident.not_retryable": _l(
        "Seule la personne dont la commande a échoué peut la relancer : closez l’incident une fois le modèle corrigé."
    ),
    # seals of the journal (dsdt seal, verify --seals; read by administrators and auditors)
    "seal.no_key": _l("Aucune clé de scellement : définissez DSDT_SEAL_KEY (créez la clé avec « dsdt seal keygen »)."),
    "seal.key_unreadable": _l("La clé de scellement %(path)s est inutilisable : %(reason)s."),
    "seal.key_exists": _l(
        "%(path)s existe déjà : une clé de scellement n’est jamais écrasée, choisissez un autre chemin."
    ),
    "seal.log_invalid": _l("Journal des sceaux illisible (%(where)s) : %(reason)s."),
    "seal.not_sealed": _l("Le dossier %(ref)s ne figure dans aucun sceau : scellez d’abord."),
    "seal.concurrent": _l("Un autre sceau numéro %(sequence)s vient d’être écrit : scellez à nouveau."),
    "seal.proof_invalid": _l("La preuve de scellement ne tient pas : %(reason)s"),
    "seal.timestamp_refused": _l("Le service d’horodatage %(url)s a refusé la demande."),
    "config.seal_interval": _l("DSDT_SEAL_INTERVAL_HOURS vaut %(value)s : donnez un nombre d’heures positif."),
    # settings: raised at start, before any page (every engine code has its message)
    "config.db_pool": _l("Réglages du pool de connexions invalides (%(value)s) : DSDT_DB_POOL_SIZE doit valoir au "
                         "moins 1, DSDT_DB_MAX_OVERFLOW au moins 0 et DSDT_DB_POOL_TIMEOUT être positif."),
    "config.db_prepare_threshold": _l(
        "DSDT_DB_PREPARE_THRESHOLD vaut « %(value)s » : donnez un nombre entier à partir de 0, ou none."
    ),
    "config.sqlite_synchronous": _l(
        "DSDT_SQLITE_SYNCHRONOUS vaut « %(value)s » : choisissez NORMAL, FULL ou EXTRA (FULL par défaut)."
    ),
    "config.clock_offset": _l("DSDT_CLOCK_OFFSET vaut « %(value)s » : donnez un décalage comme +30d, +2h, "
                              "+15m ou -1d (jours, heures, minutes, secondes)."),
    "config.clock_offset_production": _l(
        "DSDT_CLOCK_OFFSET (%(value)s) est refusé en production : l’horloge virtuelle ne sert qu’aux essais "
        "et démonstrations (base SQLite embarquée, DSDT_ENV différent de production)."),
    "verify.resume_invalid": _l("%(path)s n’est pas un fichier de progression de dsdt verify."),
    "verify.resume_other_database": _l("%(path)s enregistre la vérification d’une autre base de données."),
    "verify.jobs": _l("Le nombre de processus de vérification doit être compris entre 1 et %(max)s."),
}


def _shown(value) -> str:
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe(err: EngineError) -> str | None:
    """The translated message for ``err``; None when its code has none (then the page's generic
    text for its class is all there is to say)."""
    template = MESSAGES.get(err.code)
    if template is None:
        if err.code in DEFAULT_CODES:
            return err.message  # raised by the web layer, in the person's language already
        log.error("engine error code %s has no message in webapp.engine_messages", err.code)
        return None
    params = {name: _shown(value) for name, value in err.params.items()}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        # A code raised without a parameter its message names: say the rest, and leave a trace.
        log.error("engine error %s lacks parameters for its message (has %s)", err.code, sorted(params))
        return None


def field_errors(err: Invalid) -> dict[str, list[str]]:
    """``err.errors`` with each field whose code is known (``params["fields"]``) translated."""
    errors = {path: list(messages) for path, messages in err.errors.items()}
    for path, code in (err.params.get("fields") or {}).items():
        template = MESSAGES.get(code)
        if template is not None:
            params = {name: _shown(value) for name, value in err.params.items() if name != "fields"}
            errors[path] = [str(template) % params]
    return errors
