"""Annex 1 of the contract ("Interventions typiques"), as the data migration loads it.

Each row: service group, the contract's French name, the English label (translated to French
and Dutch through the catalogues: the labels are marked below), the request kind, the unit,
Standard and Express credits, and whether the response times of art. 7.6 apply (the rows the
contract marks with ¹ have none).

The request kind is ours, following the contract's definitions (art. 1):
- "Demande d'Information" rows, questions and help using a tool (coding questions, Plesk's
  configuration screen, assistance through external access) ask for information or advice:
  information requests (art. 7.5 speaks of advice given in answer to one).
- Something broken or degraded (site not reachable, hacked site, "Incident de Service", the
  operating system under Plesk misbehaving) is an "événement qui ne fait pas partie du
  fonctionnement standard": an incident.
- Everything that changes a configuration (FTP accounts, folder access, migrations, restoring
  a backup — the contract's own example of a "Modification" —, registrations, DNS updates,
  installing or integrating certificates, extra M365 configuration) is a change request.
"""

from django.utils.translation import gettext_noop

HOSTING = "hosting"
DOMAINS = "domains"
M365 = "m365"
SSL = "ssl"

INCIDENT, INFORMATION, CHANGE = "incident", "information", "change"
FREE, PER_QUARTER_HOUR, PER_INTERVENTION, ON_QUOTE = "free", "per_15_minutes", "per_intervention", "on_quote"

# (group, code, French name from the contract, English label, kind, unit, standard, express, response times apply)
ANNEX_1 = [
    (
        HOSTING,
        "hosting-information",
        "Demande d'Information",
        gettext_noop("Information request"),
        INFORMATION,
        FREE,
        0,
        0,
        True,
    ),
    (
        HOSTING,
        "hosting-site-down",
        "Site web non accessible",
        gettext_noop("Website not reachable"),
        INCIDENT,
        FREE,
        0,
        0,
        True,
    ),
    (
        HOSTING,
        "hosting-second-ftp",
        "Configuration d'un deuxième compte FTP",
        gettext_noop("Set up a second FTP account"),
        CHANGE,
        FREE,
        0,
        0,
        True,
    ),
    (
        HOSTING,
        "hosting-anonymous-access",
        "Modification de l'accès anonyme aux dossiers",
        gettext_noop("Change anonymous access to folders"),
        CHANGE,
        FREE,
        0,
        0,
        True,
    ),
    (
        HOSTING,
        "hosting-coding",
        "Questions de codage",
        gettext_noop("Coding questions"),
        INFORMATION,
        PER_QUARTER_HOUR,
        2,
        2,
        False,
    ),
    (
        HOSTING,
        "hosting-hacked",
        "Enquête sur un Site web piraté",
        gettext_noop("Investigation of a hacked website"),
        INCIDENT,
        PER_QUARTER_HOUR,
        2,
        2,
        False,
    ),
    (
        HOSTING,
        "hosting-internal-migration",
        "Migrations internes de Site web",
        gettext_noop("Internal website migration"),
        CHANGE,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
    (
        HOSTING,
        "hosting-external-migration",
        "Migrations externes de Site web",
        gettext_noop("External website migration"),
        CHANGE,
        ON_QUOTE,
        0,
        0,
        False,
    ),
    (
        HOSTING,
        "hosting-restore-backup",
        "Restauration de fichiers à partir d'une sauvegarde",
        gettext_noop("Restore files from a backup"),
        CHANGE,
        PER_QUARTER_HOUR,
        4,
        5,
        False,
    ),
    (
        HOSTING,
        "hosting-external-access",
        "Assistance à la clientèle via un accès externe",
        gettext_noop("Customer assistance through external access"),
        INFORMATION,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
    (
        HOSTING,
        "plesk-configuration-screen",
        "Plesk - Utilisation de l'écran de configuration",
        gettext_noop("Plesk: using the configuration screen"),
        INFORMATION,
        FREE,
        0,
        0,
        True,
    ),
    (
        HOSTING,
        "plesk-os-support",
        "Plesk - Support pour l'OS sous-jacent",
        gettext_noop("Plesk: support for the underlying OS"),
        INCIDENT,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
    (
        HOSTING,
        "plesk-migration",
        "Plesk - Migration vers un autre serveur avec Plesk",
        gettext_noop("Plesk: migration to another server with Plesk"),
        CHANGE,
        PER_QUARTER_HOUR,
        2,
        3,
        False,
    ),
    (
        DOMAINS,
        "domains-information",
        "Demande d'Information",
        gettext_noop("Information request"),
        INFORMATION,
        FREE,
        0,
        0,
        True,
    ),
    (
        DOMAINS,
        "domains-registration",
        "Enregistrement de nom de domaine",
        gettext_noop("Domain name registration"),
        CHANGE,
        FREE,
        0,
        0,
        True,
    ),
    (
        DOMAINS,
        "domains-records-update",
        "Mise à jour des enregistrements de noms de domaine",
        gettext_noop("Update of domain name records"),
        CHANGE,
        PER_INTERVENTION,
        2,
        3,
        True,
    ),
    (
        M365,
        "m365-information",
        "Demande d'Information",
        gettext_noop("Information request"),
        INFORMATION,
        FREE,
        0,
        0,
        True,
    ),
    (
        M365,
        "m365-service-incident",
        "Incident de Service (par exemple, l'impossibilité pour certains utilisateurs d'envoyer ou de recevoir des "
        "courriels ; l'impossibilité de gérer les licences sur les Produits M365 via le Portail de Gestion et/ou le "
        "Portail en ligne de Microsoft)",
        gettext_noop("Service incident (e.g. users cannot send or receive e-mail; licences cannot be managed)"),
        INCIDENT,
        FREE,
        0,
        0,
        True,
    ),
    (
        M365,
        "m365-additional-configuration",
        "Après l'intégration initiale : des configurations supplémentaires de courrier électronique client ; un "
        "transfert supplémentaire d'une autre configuration de courrier électronique vers M365 ; des configurations "
        "supplémentaires sur le Portail en ligne de Microsoft",
        gettext_noop(
            "After the initial integration: additional e-mail client configuration, transfers or Microsoft portal "
            "configuration"
        ),
        CHANGE,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
    (
        M365,
        "m365-other-services",
        "Configurations d'autres services et conventions d'intégration externes pour les logiciels Microsoft 365 "
        "(par exemple, Word, OneDrive, etc.)",
        gettext_noop(
            "Configuration of other services and external integrations for Microsoft 365 software (Word, OneDrive…)"
        ),
        CHANGE,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
    (
        M365,
        "m365-mail-migration",
        "Migrations de courrier électronique",
        gettext_noop("E-mail migration"),
        CHANGE,
        ON_QUOTE,
        0,
        0,
        False,
    ),
    (
        SSL,
        "ssl-information",
        "Demande d'information",
        gettext_noop("Information request"),
        INFORMATION,
        FREE,
        0,
        0,
        True,
    ),
    (
        SSL,
        "ssl-request",
        "Demande et création d'un certificat SSL",
        gettext_noop("Request and creation of an SSL certificate"),
        CHANGE,
        FREE,
        0,
        0,
        True,
    ),
    (
        SSL,
        "ssl-hosting-integration",
        "Intégration de certificat SSL dans la Plate-forme d'hébergement web",
        gettext_noop("SSL certificate integration into the web hosting platform"),
        CHANGE,
        PER_QUARTER_HOUR,
        0,
        3,
        True,
    ),
    (
        SSL,
        "ssl-dynamic-cloud-integration",
        "Intégration de certificat SSL sur le serveur Telenet Dynamic Cloud",
        gettext_noop("SSL certificate integration on the Telenet Dynamic Cloud server"),
        CHANGE,
        PER_QUARTER_HOUR,
        2,
        3,
        True,
    ),
]

# Which plans' services each annex group covers (services.models.Kind values).
GROUP_SERVICE_KINDS = {
    HOSTING: ("shared_hosting", "cms_hosting", "managed_cms", "caching"),
    DOMAINS: ("domain",),
    M365: ("m365_pack",),
    SSL: ("ssl_certificate",),
}
