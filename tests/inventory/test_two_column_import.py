"""Issue 14 item 6: a header row is never a key; card number + password pairs; GBK/UTF-8 files."""

import pytest

from kameng.catalog.services import import_card_keys
from kameng.inventory.models import CardKey
from kameng.inventory.secrets import decrypt
from kameng.inventory.services import mask, parse_key_file
from kameng.orders.services import place_order, reveal_card_keys
from tests import factories as f

pytestmark = pytest.mark.django_db

GBK_CSV = "卡号,密码\r\n1000200030004001,PW88120001\r\n1000200030004002,PW99310002\r\n".encode("gbk")


def _pairs(product) -> list[tuple[str, str]]:
    return sorted(
        (decrypt(k.card_no_enc) if k.card_no_enc else "", decrypt(k.secret_enc))
        for k in CardKey.objects.filter(product=product)
    )


def test_a_gbk_csv_with_a_chinese_header_imports_only_the_real_rows():
    product = f.product()

    report = import_card_keys(product=product, data=GBK_CSV, actor=None)

    assert report.added == 2
    assert report.header_line == 1
    assert _pairs(product) == [("1000200030004001", "PW88120001"), ("1000200030004002", "PW99310002")]


def test_a_buyer_never_reveals_the_header_and_sees_card_number_and_password():
    product = f.product(keys=0, price=10_00)
    import_card_keys(product=product, data=GBK_CSV, actor=None)
    buyer = f.buyer(balance=30_00)

    revealed = []
    for _ in range(2):
        order = place_order(buyer=buyer, product=product)
        revealed += reveal_card_keys(order_id=order.pk, buyer=buyer)

    assert sorted((k.card_no, k.secret) for k in revealed) == _pairs(product)
    assert all("卡号" not in k.card_no + k.secret for k in revealed)
    assert CardKey.objects.filter(product=product, status="available").count() == 0


def test_the_order_page_labels_card_number_and_password(client):
    product = f.product(keys=0, price=10_00)
    import_card_keys(product=product, data="卡号,卡密\nCARD-000111,PASS-999888\n", actor=None)
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=product)
    client.force_login(buyer)

    page = client.post(f"/orders/{order.no}/reveal/", follow=True).content.decode()

    assert "CARD-000111" in page and "PASS-999888" in page
    assert "卡号" in page and "密码" in page


def test_the_api_reveal_returns_both_columns(client):
    product = f.product(keys=0, price=10_00)
    import_card_keys(product=product, data="CARD-000111\tPASS-999888\n", actor=None)
    buyer = f.buyer(balance=10_00)
    order = place_order(buyer=buyer, product=product)
    client.force_login(buyer)

    body = client.post(f"/api/orders/{order.no}/reveal").json()

    assert body["cards"] == [{"card_no": "CARD-000111", "password": "PASS-999888"}]
    assert body["card_keys"] == ["PASS-999888"]


@pytest.mark.parametrize(
    "data",
    [
        b"1000200030004001\tPW-8812\n1000200030004002\tPW-9931\n",
        b"1000200030004001----PW-8812\n1000200030004002----PW-9931\n",
        b'"1000200030004001","PW-8812"\r\n"1000200030004002","PW-9931"\r\n',
        "\ufeffcard,password\n1000200030004001,PW-8812\n1000200030004002,PW-9931\n".encode(),
        "卡号\t卡密\n1000200030004001\tPW-8812\n1000200030004002\tPW-9931\n".encode("gb18030"),
    ],
    ids=["txt-tab", "txt-dashes", "csv-quoted", "utf8-bom-english-header", "gb18030-tab-header"],
)
def test_two_column_txt_and_csv_in_each_encoding(data):
    product = f.product()

    report = import_card_keys(product=product, data=data, actor=None)

    assert report.added == 2 and report.two_column == 2
    assert _pairs(product) == [("1000200030004001", "PW-8812"), ("1000200030004002", "PW-9931")]


def test_a_first_row_without_digits_above_rows_with_digits_is_a_header():
    parsed = parse_key_file("Serial,Secret\nA1B2C3,X9Y8\nD4E5F6,Z7W6\n")

    assert parsed.header_line == 1
    assert [(r.card_no, r.secret) for r in parsed.rows] == [("A1B2C3", "X9Y8"), ("D4E5F6", "Z7W6")]


def test_keys_without_digits_are_not_mistaken_for_a_header():
    parsed = parse_key_file("卡密一号\n卡密二号\n")

    assert parsed.header_line is None
    assert len(parsed.rows) == 2


def test_a_seller_may_declare_the_header():
    product = f.product()

    report = import_card_keys(
        product=product, data="面值100元\nKEY-0001\nKEY-0002\n", actor=None, has_header=True
    )

    assert report.added == 2 and report.header_line == 1


def test_a_line_with_three_columns_is_invalid():
    report = import_card_keys(product=f.product(), data="A1,B2\nA3,B4,C5\n", actor=None)

    assert report.invalid == [2] and report.added == 0


def test_mask_shows_at_most_the_first_four_and_last_two_characters():
    assert mask("1000200030004001") == "1000**********01"
    assert mask("SHORT-123") == "*********"
    assert mask("") == ""
