"""Load annex 1 of the contract into the intervention catalogue.

The rows are frozen here (not imported from support.catalogue) so that this migration keeps
meaning what it meant when it ran, whatever the module becomes.
"""

from django.db import migrations

ROWS = [
    ("hosting", "hosting-information", "Demande d'Information", "Information request", "information", "free", 0, 0, True),
    ("hosting", "hosting-site-down", "Site web non accessible", "Website not reachable", "incident", "free", 0, 0, True),
    ("hosting", "hosting-second-ftp", "Configuration d'un deuxième compte FTP", "Set up a second FTP account", "change", "free", 0, 0, True),
    ("hosting", "hosting-anonymous-access", "Modification de l'accès anonyme aux dossiers", "Change anonymous access to folders", "change", "free", 0, 0, True),
    ("hosting", "hosting-coding", "Questions de codage", "Coding questions", "information", "per_15_minutes", 2, 2, False),
    ("hosting", "hosting-hacked", "Enquête sur un Site web piraté", "Investigation of a hacked website", "incident", "per_15_minutes", 2, 2, False),
    ("hosting", "hosting-internal-migration", "Migrations internes de Site web", "Internal website migration", "change", "per_15_minutes", 2, 3, True),
    ("hosting", "hosting-external-migration", "Migrations externes de Site web", "External website migration", "change", "on_quote", 0, 0, False),
    ("hosting", "hosting-restore-backup", "Restauration de fichiers à partir d'une sauvegarde", "Restore files from a backup", "change", "per_15_minutes", 4, 5, False),
    ("hosting", "hosting-external-access", "Assistance à la clientèle via un accès externe", "Customer assistance through external access", "information", "per_15_minutes", 2, 3, True),
    ("hosting", "plesk-configuration-screen", "Plesk - Utilisation de l'écran de configuration", "Plesk: using the configuration screen", "information", "free", 0, 0, True),
    ("hosting", "plesk-os-support", "Plesk - Support pour l'OS sous-jacent", "Plesk: support for the underlying OS", "incident", "per_15_minutes", 2, 3, True),
    ("hosting", "plesk-migration", "Plesk - Migration vers un autre serveur avec Plesk", "Plesk: migration to another server with Plesk", "change", "per_15_minutes", 2, 3, False),
    ("domains", "domains-information", "Demande d'Information", "Information request", "information", "free", 0, 0, True),
    ("domains", "domains-registration", "Enregistrement de nom de domaine", "Domain name registration", "change", "free", 0, 0, True),
    ("domains", "domains-records-update", "Mise à jour des enregistrements de noms de domaine", "Update of domain name records", "change", "per_intervention", 2, 3, True),
    ("m365", "m365-information", "Demande d'Information", "Information request", "information", "free", 0, 0, True),
    ("m365", "m365-service-incident", "Incident de Service (par exemple, l'impossibilité pour certains utilisateurs d'envoyer ou de recevoir des courriels ; l'impossibilité de gérer les licences sur les Produits M365 via le Portail de Gestion et/ou le Portail en ligne de Microsoft)", "Service incident (e.g. users cannot send or receive e-mail; licences cannot be managed)", "incident", "free", 0, 0, True),
    ("m365", "m365-additional-configuration", "Après l'intégration initiale : des configurations supplémentaires de courrier électronique client ; un transfert supplémentaire d'une autre configuration de courrier électronique vers M365 ; des configurations supplémentaires sur le Portail en ligne de Microsoft", "After the initial integration: additional e-mail client configuration, transfers or Microsoft portal configuration", "change", "per_15_minutes", 2, 3, True),
    ("m365", "m365-other-services", "Configurations d'autres services et conventions d'intégration externes pour les logiciels Microsoft 365 (par exemple, Word, OneDrive, etc.)", "Configuration of other services and external integrations for Microsoft 365 software (Word, OneDrive…)", "change", "per_15_minutes", 2, 3, True),
    ("m365", "m365-mail-migration", "Migrations de courrier électronique", "E-mail migration", "change", "on_quote", 0, 0, False),
    ("ssl", "ssl-information", "Demande d'information", "Information request", "information", "free", 0, 0, True),
    ("ssl", "ssl-request", "Demande et création d'un certificat SSL", "Request and creation of an SSL certificate", "change", "free", 0, 0, True),
    ("ssl", "ssl-hosting-integration", "Intégration de certificat SSL dans la Plate-forme d'hébergement web", "SSL certificate integration into the web hosting platform", "change", "per_15_minutes", 0, 3, True),
    ("ssl", "ssl-dynamic-cloud-integration", "Intégration de certificat SSL sur le serveur Telenet Dynamic Cloud", "SSL certificate integration on the Telenet Dynamic Cloud server", "change", "per_15_minutes", 2, 3, True),
]


def load(apps, schema_editor):
    InterventionType = apps.get_model("support", "InterventionType")
    for position, (group, code, name_fr, label, kind, unit, standard, express, applies) in enumerate(ROWS):
        InterventionType.objects.update_or_create(
            code=code,
            defaults={
                "service_group": group, "name_fr": name_fr, "label": label, "kind": kind, "unit": unit,
                "standard_credits": standard, "express_credits": express, "response_time_applies": applies,
                "position": position,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("support", "InterventionType").objects.filter(code__in=[row[1] for row in ROWS]).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
