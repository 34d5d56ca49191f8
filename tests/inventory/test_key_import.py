"""Card-key import (SPEC §2): all or nothing, problems reported by line number, secrets encrypted."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kameng.catalog.services import CatalogError, import_card_keys
from kameng.inventory.models import CardKey
from kameng.inventory.secrets import decrypt
from tests import factories as f

pytestmark = pytest.mark.django_db


def _stock(product) -> list[str]:
    return sorted(decrypt(k.secret_enc) for k in CardKey.objects.filter(product=product))


def test_a_form_feed_is_a_bad_character_not_a_line_break():
    report = import_card_keys(product=f.product(), data="K1\nK2\x0cK3\nK4", actor=None)

    assert report.invalid == [2]


def test_pasted_keys_are_imported_and_blank_lines_counted():
    product = f.product()

    report = import_card_keys(product=product, data="AAAA-1111\n\n  BBBB-2222  \n\n\nCCCC-3333\n", actor=None)

    assert report.added == 3
    assert report.blank_lines == 3
    assert not report.problems
    assert _stock(product) == ["AAAA-1111", "BBBB-2222", "CCCC-3333"]


@pytest.mark.parametrize(
    "data",
    [
        "卡密一号\r\n卡密二号\r\n".encode(),
        "\ufeff卡密一号\n卡密二号\n".encode(),  # UTF-8 with BOM, as Windows Notepad saves
        "卡密一号\r\n卡密二号\r\n".encode("gb18030"),  # what Excel on a Chinese Windows saves
    ],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_uploaded_files_in_each_common_encoding_import_the_same_keys(data):
    product = f.product()

    report = import_card_keys(product=product, data=data, actor=None)

    assert report.added == 2
    assert report.blank_lines == 0
    assert _stock(product) == sorted(["卡密一号", "卡密二号"])


def test_a_one_column_csv_with_quotes_is_read_as_keys():
    product = f.product()

    report = import_card_keys(product=product, data=b'"KEY-0001"\n"KEY-0002",\nKEY-0003\n', actor=None)

    assert report.added == 3
    assert _stock(product) == ["KEY-0001", "KEY-0002", "KEY-0003"]


def test_a_card_number_and_password_pair_is_stored_as_both_not_cut_at_the_comma():
    product = f.product()

    import_card_keys(product=product, data="1000200030004001,PW-8812\n1000200030004002,PW-9931\n", actor=None)

    assert _stock(product) == ["PW-8812", "PW-9931"]
    assert sorted(decrypt(k.card_no_enc) for k in CardKey.objects.filter(product=product)) == [
        "1000200030004001",
        "1000200030004002",
    ]


def test_two_passwords_under_one_card_number_are_two_keys_not_a_duplicate():
    product = f.product()

    import_card_keys(product=product, data="1000200030004000,PW-8812\n1000200030004000,PW-9931\n", actor=None)

    assert _stock(product) == ["PW-8812", "PW-9931"]


def test_duplicates_within_the_file_are_reported_by_line_and_nothing_is_imported():
    product = f.product()

    report = import_card_keys(product=product, data="K1\nK2\n\nK1\nK3\nK2\n", actor=None)

    assert report.duplicates_in_file == [4, 6]
    assert report.added == 0
    assert CardKey.objects.filter(product=product).count() == 0


def test_keys_already_in_stock_are_reported_by_line_and_nothing_is_imported():
    product = f.product()
    import_card_keys(product=product, data="OLD-1\nOLD-2", actor=None)

    report = import_card_keys(product=product, data="NEW-1\nOLD-2\nNEW-2\n OLD-1\n", actor=None)

    assert report.already_in_stock == [2, 4]
    assert report.added == 0
    assert _stock(product) == ["OLD-1", "OLD-2"]


def test_the_same_key_may_be_stocked_for_two_different_products():
    first, second = f.product(), f.product()
    import_card_keys(product=first, data="SHARED-1", actor=None)

    assert import_card_keys(product=second, data="SHARED-1", actor=None).added == 1


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", bytes(range(256)), b"\x80\xff\x80\xff"],
    ids=["png", "all-bytes", "undecodable"],
)
def test_a_binary_file_is_refused(data):
    product = f.product()

    with pytest.raises(CatalogError, match=r"文件|编码"):
        import_card_keys(product=product, data=data, actor=None)
    assert CardKey.objects.filter(product=product).count() == 0


def test_overlong_or_control_character_lines_are_invalid_and_import_nothing():
    product = f.product()

    report = import_card_keys(product=product, data="OK-1\n" + "X" * 201 + "\nBAD\x07KEY\n", actor=None)

    assert report.invalid == [2, 3]
    assert CardKey.objects.filter(product=product).count() == 0


def test_an_empty_file_is_refused():
    with pytest.raises(CatalogError, match="没有卡密"):
        import_card_keys(product=f.product(), data="\n \n", actor=None)


def test_keys_only_go_to_card_key_products():
    with pytest.raises(CatalogError):
        import_card_keys(product=f.product(kind="direct_topup"), data="K1", actor=None)


def test_secrets_are_stored_encrypted_and_never_shown_by_the_key_itself():
    product = f.product()
    secret = "SECRET-PLAINTEXT-7731"

    import_card_keys(product=product, data=secret, actor=None)

    key = CardKey.objects.get(product=product)
    assert secret not in key.secret_enc
    assert secret not in key.fingerprint
    assert secret not in str(key) and secret not in repr(key)
    assert decrypt(key.secret_enc) == secret


# --- through the seller page ---------------------------------------------------------------------


def _url(product) -> str:
    return f"/seller/products/{product.pk}/keys/"


def test_a_seller_pastes_keys_on_the_import_page(client):
    product = f.product()
    client.force_login(product.seller.owner)

    preview = client.post(_url(product), {"text": "P-1\n\nP-2\n"})
    draft = preview.context["confirm"]["draft"].value()
    response = client.post(_url(product) + "confirm/", {"draft": draft}, follow=True)

    assert response.status_code == 200
    assert "已导入 2 条卡密（跳过空行 1 行）" in response.content.decode()
    assert _stock(product) == ["P-1", "P-2"]


def test_a_seller_uploads_a_gb18030_csv_on_the_import_page(client):
    product = f.product()
    client.force_login(product.seller.owner)
    upload = SimpleUploadedFile(
        "keys.csv", "点卡-01\r\n点卡-02\r\n".encode("gb18030"), content_type="text/csv"
    )

    preview = client.post(_url(product), {"file": upload})
    draft = preview.context["confirm"]["draft"].value()
    response = client.post(_url(product) + "confirm/", {"draft": draft}, follow=True)

    assert "已导入 2 条卡密" in response.content.decode()
    assert _stock(product) == ["点卡-01", "点卡-02"]


def test_the_import_page_lists_duplicate_lines_and_imports_nothing(client):
    product = f.product()
    import_card_keys(product=product, data="IN-STOCK", actor=None)
    client.force_login(product.seller.owner)

    response = client.post(_url(product), {"text": "A\nA\nIN-STOCK\n"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "未导入任何卡密" in page
    assert "文件内重复的行：2" in page
    assert "已在库存中的行：3" in page
    assert _stock(product) == ["IN-STOCK"]


def test_the_import_page_refuses_a_binary_upload_with_a_message(client):
    product = f.product()
    client.force_login(product.seller.owner)
    upload = SimpleUploadedFile("keys.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    response = client.post(_url(product), {"file": upload})

    assert response.status_code == 200
    assert "不是文本文件" in response.content.decode()
    assert not CardKey.objects.filter(product=product).exists()


def test_the_import_page_asks_for_keys_when_the_form_is_empty(client):
    product = f.product()
    client.force_login(product.seller.owner)

    response = client.post(_url(product), {"text": "   "})

    assert "请粘贴卡密或上传文件" in response.content.decode()


def test_a_seller_cannot_import_into_another_sellers_product(client):
    product = f.product()
    client.force_login(f.seller().owner)

    assert client.get(_url(product)).status_code == 404
    assert client.post(_url(product), {"text": "INTRUDER-1"}).status_code == 404
    api = client.post(
        f"/api/catalog/products/{product.pk}/keys", {"text": "INTRUDER-1"}, content_type="application/json"
    )
    assert api.status_code == 404
    assert not CardKey.objects.filter(product=product).exists()


def test_a_buyer_cannot_open_the_import_page(client):
    product = f.product()
    client.force_login(f.buyer())

    assert client.post(_url(product), {"text": "K"}).status_code == 403
    assert not CardKey.objects.filter(product=product).exists()


def test_the_api_import_reports_problems_with_422_and_imports_nothing(client):
    product = f.product()
    client.force_login(product.seller.owner)

    response = client.post(
        f"/api/catalog/products/{product.pk}/keys", {"text": "A\nB\nA"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["duplicates_in_file"] == [3]
    assert not CardKey.objects.filter(product=product).exists()


def test_a_secret_never_reaches_the_logs_on_import_purchase_or_reveal(caplog):
    from kameng.orders.services import place_order, reveal_card_keys

    secret = "LOGLEAK-CHECK-90210"
    product = f.product(price=10_00)
    buyer = f.buyer(balance=10_00)

    with caplog.at_level("DEBUG"):
        import_card_keys(product=product, data=secret, actor=None)
        order = place_order(buyer=buyer, product=product)
        assert [k.secret for k in reveal_card_keys(order_id=order.pk, buyer=buyer)] == [secret]

    assert secret not in caplog.text
