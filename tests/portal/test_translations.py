"""The French and Dutch catalogues: complete, compiled, in step with the code, and used by the pages."""

import html
import io
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "nl": "nplurals=2; plural=(n != 1);"}
# The same folders `makemessages` is told to leave out when the catalogues are made.
MAKEMESSAGES_IGNORE = [".venv", "var", "tests", "staticfiles"]
MAKEMESSAGES_HINT = (
    "run `DJANGO_DEBUG=1 .venv/bin/python manage.py makemessages -l fr -l nl --ignore=.venv --ignore=var "
    "--ignore=tests --ignore=staticfiles --no-obsolete`, translate, then `manage.py compilemessages --ignore=.venv`"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def compiled(language: str) -> polib.MOFile:
    return polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))


def messages_of(mo: polib.MOFile) -> set[tuple]:
    return {
        (e.msgctxt, e.msgid, e.msgid_plural, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo if e.msgid
    }


def translations_of(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.fixture
def language_restored():
    """LocaleMiddleware activates the request's language for the thread: put back what was active before."""
    with translation.override(translation.get_language()):
        yield


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_of_the_french_and_dutch_catalogues_is_translated_and_none_is_fuzzy(language):
    po = catalogue(language)
    untranslated = [e.msgid for e in po if not e.obsolete and not e.fuzzy and not all(translations_of(e))]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert not (untranslated or fuzzy or obsolete or po.metadata_is_fuzzy), (
        f"{language}: untranslated entries: {untranslated}; fuzzy entries (check the translation, then remove "
        f"the flag): {fuzzy}; obsolete entries: {obsolete}; header marked fuzzy: {bool(po.metadata_is_fuzzy)}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_header_names_its_language_plural_forms_and_utf8(language):
    metadata = catalogue(language).metadata
    assert metadata["Language"] == language
    assert metadata["Plural-Forms"] == PLURAL_FORMS[language]
    assert metadata["Content-Type"] == "text/plain; charset=UTF-8"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_the_english_text(language):
    wrong = []
    for entry in catalogue(language).translated_entries():
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in translations_of(entry):
            found = sorted(PLACEHOLDER.findall(text))
            # A singular form may leave out the count ("one day"), never put in one of its own.
            if found != expected and not (entry.msgid_plural and set(found) < set(expected)):
                wrong.append((entry.msgid, text))
    assert not wrong, f"{language}: placeholders differ from the English text: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_mo_file_holds_exactly_what_the_po_file_says(language):
    """A forgotten `compilemessages` leaves a .mo that differs from the .po compiled afresh (mtimes mean nothing
    after a git checkout, so the contents are compared)."""
    mo_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run `manage.py compilemessages --ignore=.venv`"
    fresh = polib.mofile(catalogue(language).to_binary())
    committed = compiled(language)
    stale = sorted(m[1] for m in messages_of(fresh) - messages_of(committed))
    gone = sorted(m[1] for m in messages_of(committed) - messages_of(fresh))
    assert not stale and not gone, (
        f"{language}: django.mo is out of date, run `manage.py compilemessages --ignore=.venv`. "
        f"Not (or differently) in the .mo: {stale}; in the .mo but no longer in the .po: {gone}"
    )
    assert committed.metadata.get("Plural-Forms") == fresh.metadata.get("Plural-Forms")


def test_the_catalogues_hold_every_string_the_code_marks_for_translation(tmp_path, monkeypatch):
    """Runs makemessages' own extraction (xgettext) over a copy of the project, and compares with the catalogues."""
    missing_tools = [tool for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib") if not shutil.which(tool)]
    assert not missing_tools, f"GNU gettext is needed for this check (apt-get install gettext): {missing_tools}"
    copy = tmp_path / "project"
    shutil.copytree(
        BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(*MAKEMESSAGES_IGNORE, ".*", "__pycache__", "node_modules", "*.mo"),
    )
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command(
            "makemessages",
            locale=LANGUAGES,
            ignore_patterns=list(MAKEMESSAGES_IGNORE),
            no_obsolete=True,
            keep_pot=True,
            verbosity=0,
            stdout=io.StringIO(),
        )
    wanted = {
        (e.msgctxt, e.msgid, e.msgid_plural) for e in polib.pofile(str(copy / "locale" / "django.pot")) if e.msgid
    }
    assert len(wanted) > 100, "the extraction found suspiciously few strings"
    for language in LANGUAGES:
        held = {(e.msgctxt, e.msgid, e.msgid_plural) for e in catalogue(language) if not e.obsolete}
        missing = sorted(msgid for _ctx, msgid, _plural in wanted - held)
        assert not missing, (
            f"{language}: the catalogue lacks strings the code uses: {missing}. To fix it, {MAKEMESSAGES_HINT}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "portal_name"),
    [("fr", "Portail d'hébergement"), ("nl", "Hostingportaal")],
)
def test_the_login_page_is_rendered_in_the_language_of_the_cookie_from_our_catalogue(
    client, language, portal_name, language_restored
):
    intro = catalogue(language).find(
        "Sign in with the e-mail address your company's account owner invited. "
        "New here? Ask them to invite you from the Team page."
    )
    assert intro is not None and intro.msgstr
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'<html lang="{language}">' in page
    assert portal_name in page
    assert intro.msgstr in page
    assert "Hosting portal" not in page


@pytest.mark.django_db
def test_the_language_switcher_turns_the_login_page_into_dutch(client, language_restored):
    login_url = reverse("account_login")
    response = client.post(reverse("set_language"), {"language": "nl", "next": login_url}, follow=True)
    assert response.redirect_chain[-1][0] == login_url
    page = html.unescape(response.content.decode())
    assert '<html lang="nl">' in page
    assert "Hostingportaal" in page
    assert "Aanmelden" in page


@pytest.mark.django_db
def test_without_a_language_choice_the_login_page_stays_english(client, language_restored):
    page = html.unescape(client.get(reverse("account_login")).content.decode())
    assert '<html lang="en">' in page
    assert "Hosting portal" in page
