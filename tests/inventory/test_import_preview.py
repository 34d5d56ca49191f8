"""Issue 14 item 6: upload → masked preview → confirm; the seller's stock counts; who may see what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kameng.catalog.services import import_card_keys
from kameng.inventory.models import CardKey, KeyImportDraft
from kameng.inventory.secrets import decrypt
from kameng.orders.services import place_order
from kameng.refunds.services import submit_refund
from tests import factories as f
from tests.refunds.helpers import screenshot

pytestmark = pytest.mark.django_db

ROWS = [("1000200030004001", "A8K2PQ7M3XZL01"), ("1000200030004002", "B9L3RS8N4YAM02")]
CSV = ("卡号,密码\r\n" + "".join(f"{a},{b}\r\n" for a, b in ROWS)).encode("gbk")
PLAINTEXT = [value for row in ROWS for value in row]


def _url(product, tail="") -> str:
    return f"/seller/products/{product.pk}/keys/{tail}"


def _upload(client, product, data=CSV, **extra):
    return client.post(_url(product), {"file": SimpleUploadedFile("keys.csv", data, "text/csv"), **extra})


def _draft(response) -> str:
    return str(response.context["confirm"]["draft"].value())


def test_the_import_page_shows_the_formats_with_an_example_before_upload(client):
    product = f.product()
    client.force_login(product.seller.owner)

    page = client.get(_url(product)).content.decode()

    assert 'id="import-formats"' in page
    assert "卡号,密码" in page and "GBK" in page and "BOM" in page
    assert "第一行是表头" in page


def test_the_preview_is_masked_counts_and_imports_nothing_yet(client):
    product = f.product()
    client.force_login(product.seller.owner)

    response = _upload(client, product)

    page = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "1000**********01" in page and "A8K2********01" in page
    assert 'id="count-to-add">2<' in page
    assert "表头（跳过）" in page and "第 1 行" in page
    assert not any(value in page for value in PLAINTEXT)
    assert not CardKey.objects.filter(product=product).exists()
    draft = KeyImportDraft.objects.get()
    assert not any(value in draft.text_enc for value in PLAINTEXT)


def test_confirm_imports_exactly_the_previewed_rows_once(client):
    product = f.product()
    client.force_login(product.seller.owner)
    draft = _draft(_upload(client, product))

    response = client.post(_url(product, "confirm/"), {"draft": draft}, follow=True)

    assert "已导入 2 条卡密" in response.content.decode()
    stored = sorted(
        (decrypt(k.card_no_enc), decrypt(k.secret_enc)) for k in CardKey.objects.filter(product=product)
    )
    assert stored == ROWS
    assert not KeyImportDraft.objects.exists()
    again = client.post(_url(product, "confirm/"), {"draft": draft}, follow=True)
    assert "预览已过期或不存在" in again.content.decode()
    assert CardKey.objects.filter(product=product).count() == 2


def test_the_preview_lists_problems_and_offers_no_confirm(client):
    product = f.product()
    import_card_keys(product=product, data="OLD-KEY-000001", actor=None)
    client.force_login(product.seller.owner)

    response = client.post(_url(product), {"text": "NEW-KEY-000001\nNEW-KEY-000001\nOLD-KEY-000001\nA,B,C\n"})

    page = response.content.decode()
    assert "文件内重复的行：2" in page and "已在库存中的行：3" in page and "4" in page
    assert response.context["confirm"] is None
    assert "NEW-KEY-000001" not in page and "OLD-KEY-000001" not in page
    assert not KeyImportDraft.objects.exists()


def test_a_declared_header_is_skipped_in_the_preview(client):
    product = f.product()
    client.force_login(product.seller.owner)

    response = client.post(_url(product), {"text": "批次2026\nKEY-ABCDEF-0001\n", "has_header": "on"})

    assert response.context["report"].header_line == 1
    assert response.context["report"].to_add == 1


def test_another_seller_cannot_confirm_someone_elses_preview(client):
    product = f.product()
    client.force_login(product.seller.owner)
    draft = _draft(_upload(client, product))
    intruder_product = f.product()
    client.force_login(intruder_product.seller.owner)

    assert client.post(_url(product, "confirm/"), {"draft": draft}).status_code == 404
    response = client.post(_url(intruder_product, "confirm/"), {"draft": draft}, follow=True)

    assert "预览已过期或不存在" in response.content.decode()
    assert not CardKey.objects.exists()
    assert KeyImportDraft.objects.count() == 1


def test_a_buyer_cannot_preview_or_confirm(client):
    product = f.product()
    client.force_login(f.buyer())

    assert _upload(client, product).status_code == 403
    assert client.post(_url(product, "confirm/"), {"draft": "not-a-uuid"}).status_code == 403


def test_a_bad_draft_id_is_a_message_not_a_500(client):
    product = f.product()
    client.force_login(product.seller.owner)

    response = client.post(_url(product, "confirm/"), {"draft": "' OR 1=1 --"}, follow=True)

    assert response.status_code == 200
    assert "预览已过期或不存在" in response.content.decode()


# --- the stock view ---------------------------------------------------------------------------------


def _counts(page: str, product) -> dict:
    import re

    block = page.split(f'id="inventory-{product.pk}"')[1].split("inventory-product")[0]
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', block)}


def test_inventory_counts_follow_sales_and_revocations(client):
    product = f.product(price=10_00)
    import_card_keys(product=product, data="\n".join(f"STOCK-KEY-{i:04d}" for i in range(5)), actor=None)
    buyer = f.buyer(balance=30_00)
    kept = place_order(buyer=buyer, product=product)
    refunded = place_order(buyer=buyer, product=product)
    submit_refund(
        order=refunded,
        actor=buyer,
        reason="invalid_key",
        demand="full_refund",
        evidence=[screenshot("redeem_error")],
    )
    CardKey.objects.filter(order=kept).update(redeemed=True)
    client.force_login(product.seller.owner)

    page = client.get("/seller/inventory/").content.decode()

    assert _counts(page, product) == {"on_sale": 3, "sold": 1, "revoked": 1, "redeemed": 1}
    assert "STOCK-KEY" not in page


def test_a_seller_sees_only_its_own_stock_and_staff_see_all(client):
    mine, theirs = f.product(), f.product()
    import_card_keys(product=mine, data="MINE-KEY-0001", actor=None)
    import_card_keys(product=theirs, data="THEIRS-KEY-0001", actor=None)

    client.force_login(mine.seller.owner)
    page = client.get("/seller/inventory/").content.decode()
    assert f'id="inventory-{mine.pk}"' in page and f'id="inventory-{theirs.pk}"' not in page

    client.force_login(f.staff("admin"))
    page = client.get("/seller/inventory/").content.decode()
    assert f'id="inventory-{mine.pk}"' in page and f'id="inventory-{theirs.pk}"' in page
    assert "MINE-KEY" not in page

    client.force_login(f.buyer())
    assert client.get("/seller/inventory/").status_code == 403


# --- the JSON API ---------------------------------------------------------------------------------


def _api(client, product, **body):
    return client.post(f"/api/catalog/products/{product.pk}/keys", body, content_type="application/json")


def test_the_api_dry_run_previews_masked_and_imports_nothing(client):
    product = f.product()
    client.force_login(product.seller.owner)
    text = "卡号,密码\n" + "".join(f"{a},{b}\n" for a, b in ROWS)

    response = _api(client, product, text=text, dry_run=True)

    body = response.json()
    assert response.status_code == 200
    assert body["dry_run"] is True and body["added"] == 0 and body["to_add"] == 2
    assert body["two_column"] == 2 and body["header_line"] == 1
    assert body["preview"][0] == {"line": 2, "card_no": "1000**********01", "password": "A8K2********01"}
    assert not any(value in response.content.decode() for value in PLAINTEXT)
    assert not CardKey.objects.filter(product=product).exists()

    committed = _api(client, product, text=text).json()

    assert committed["added"] == 2
    assert sorted((decrypt(k.card_no_enc), decrypt(k.secret_enc)) for k in CardKey.objects.all()) == ROWS


def test_the_api_declared_header_and_stock_counts(client):
    product = f.product()
    other = f.product()
    import_card_keys(product=other, data="OTHER-KEY-0001", actor=None)
    client.force_login(product.seller.owner)

    assert _api(client, product, text="面值100\nKEY-ABCDEF-0001\n", has_header=True).json()["added"] == 1
    stock = client.get("/api/catalog/stock").json()

    assert [s["product_id"] for s in stock] == [product.pk]
    assert stock[0]["batches"][0]["on_sale"] == 1
    assert "KEY-ABCDEF" not in str(stock)
    client.force_login(f.buyer())
    assert client.get("/api/catalog/stock").status_code == 403
