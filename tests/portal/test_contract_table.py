"""docs/contract.md stays honest: every article of the contract has a row, every row a test or a reason, and
every cited test exists. The operations guide lists every environment variable the settings read."""

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract" / "conditions-particulieres.fr.txt"  # a copy of ../shared/contract
TABLE = ROOT / "docs" / "contract.md"
OPERATIONS = ROOT / "docs" / "operations.md"
SETTINGS = ROOT / "portal" / "settings.py"

# A numbered article starts its line, maybe after a list dash: "3.1.4. Le Client …", "- 4.2.2. Le Client …".
# References inside sentences ("l'article 9.1.3. des Conditions Générales") never start a line.
ARTICLE_LINE = re.compile(r"^\s*(?:-\s*)?(\d+(?:\.\d+)*)\.\s+\S")
ANNEX_LINE = re.compile(r"^\s*Annexe\s+(\d+)\b")
ROW_ARTICLE = re.compile(r"^(Annex \d+|\d+(?:\.\d+)*)$")
CITED_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
EXPLANATION = re.compile(r"No test:\s*\S.{10,}")
ENV_HELPERS = {"env", "env_bool", "env_int", "env_list"}


def contract_articles() -> set[str]:
    articles = set()
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        if match := ARTICLE_LINE.match(line):
            articles.add(match.group(1))
        elif match := ANNEX_LINE.match(line):
            articles.add(f"Annex {match.group(1)}")
    return articles


def table_rows() -> list[tuple[str, str]]:
    """(article, proof) of each row of the tables: the first and the last cell."""
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        article = cells[0].strip("*` ")
        if article in ("Art.", "") or set(article) <= {"-", " "}:
            continue  # the header and the separator
        rows.append((article, cells[-1]))
    return rows


@cache
def defined_tests(path: str) -> frozenset[str]:
    """The test functions of a module, found by reading it (module level and inside classes)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            names.add(node.name)
    return frozenset(names)


def test_the_contract_file_is_read_whole():
    articles = contract_articles()
    # Spot checks that the parsing finds headings, sub-articles behind a dash, and the annex.
    assert {"1", "2.1", "3.1.5", "4.2.2", "5.2.2", "6.3.3", "7.6", "8.1", "Annex 1"} <= articles
    assert "9.1.3" not in articles  # a reference to the General Conditions inside a sentence
    assert len(articles) > 60


def test_every_article_of_the_contract_has_a_row_in_the_table():
    in_table = {article for article, _ in table_rows()}
    missing = sorted(contract_articles() - in_table, key=lambda a: [int(n) for n in re.findall(r"\d+", a)])
    assert not missing, f"Articles of the contract without a row in docs/contract.md: {', '.join(missing)}"


def test_every_row_names_an_article_of_the_contract():
    articles = contract_articles()
    unknown = [article for article, _ in table_rows() if not ROW_ARTICLE.match(article) or article not in articles]
    assert not unknown, f"Rows of docs/contract.md naming no article of the contract: {unknown}"


def test_every_row_has_a_test_or_an_explanation():
    empty = [
        article for article, proof in table_rows() if not CITED_TEST.search(proof) and not EXPLANATION.search(proof)
    ]
    assert not empty, f"Rows with neither a test nor a 'No test: <reason>' explanation: {empty}"


def test_every_cited_test_exists():
    missing = []
    for article, proof in table_rows():
        for path, name in CITED_TEST.findall(proof):
            if not (ROOT / path).is_file():
                missing.append(f"{article}: {path} (no such file)")
            elif name not in defined_tests(path):
                missing.append(f"{article}: {path}::{name}")
    assert not missing, "Tests cited in docs/contract.md that do not exist:\n" + "\n".join(missing)


def settings_environment_variables() -> set[str]:
    """Every variable portal/settings.py reads: env("X"), env_bool("X"), … and os.environ.get("X")."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        function = node.func
        helper = isinstance(function, ast.Name) and function.id in ENV_HELPERS
        environ = isinstance(function, ast.Attribute) and ast.unparse(function) in ("os.environ.get", "os.getenv")
        if helper or environ:
            names.add(node.args[0].value)
    return names


def test_the_operations_guide_lists_every_environment_variable_the_settings_read():
    variables = settings_environment_variables()
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "PORTAL_VAR_DIR"} <= variables
    guide = OPERATIONS.read_text(encoding="utf-8")
    missing = sorted(name for name in variables if f"`{name}`" not in guide)
    assert not missing, f"Environment variables read by portal/settings.py but not in docs/operations.md: {missing}"
