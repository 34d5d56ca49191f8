"""Every HTML page carries a Content-Security-Policy that runs only our own script files, and the
API's docs page loads its Swagger bundle from our static files, never from a public CDN."""

import re

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, "no Content-Security-Policy header"
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _no_inline_scripts(policy: dict[str, list[str]]) -> None:
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert "'unsafe-inline'" not in policy.get("script-src-attr", [])
    assert policy.get("object-src") == ["'none'"]
    assert policy.get("frame-ancestors") == ["'none'"]


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/docs"])
def test_html_pages_carry_a_policy_that_runs_no_inline_script(client, path):
    response = client.get(path)

    assert response.status_code == 200
    _no_inline_scripts(_directives(response))


def test_a_buyers_pages_carry_the_policy_too(client):
    buyer = f.buyer()
    product = f.product(keys=1)
    client.force_login(buyer)

    for path in ["/orders/", f"/p/{product.pk}/", "/wallet/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        _no_inline_scripts(_directives(response))


def test_no_template_keeps_an_inline_script_or_handler():
    from pathlib import Path

    import kameng

    root = Path(kameng.__file__).parent
    offenders = []
    for template in root.glob("**/templates/**/*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template.relative_to(root)))
    assert offenders == []


def test_the_api_docs_page_loads_nothing_from_another_host(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert re.findall(r"(?:src|href)=[\"'](?:https?:)?//", html) == []
    assert "cdn" not in html.lower()
    policy = _directives(response)
    for directive, sources in policy.items():
        assert not any(s.startswith(("http:", "https:")) for s in sources), directive
