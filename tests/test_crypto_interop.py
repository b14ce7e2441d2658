"""Our crypto against Tencent's sample implementation, both directions."""
from weworkapi.WXBizMsgCrypt3 import WXBizMsgCrypt

from bot.wecom.crypto import CryptoError, MessageCrypto, signature
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN

import pytest


def test_we_decrypt_what_tencent_encrypts():
    tencent, ours = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID), MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    message = "<xml><Content><![CDATA[完成 第三项 到会9人 㛃堃喆]]></Content></xml>"
    ret, xml = tencent.EncryptMsg(message, "nonce1", "1700000000")
    import xml.etree.ElementTree as ET
    root = ET.fromstring(xml)
    assert ours.open(root.findtext("MsgSignature"), "1700000000", "nonce1",
                     root.findtext("Encrypt")) == message


def test_tencent_decrypts_what_we_encrypt():
    tencent, ours = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID), MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    for size in (0, 1, 15, 16, 31, 32, 33, 2000):  # every padding length class
        message = "签" * size
        sealed = ours.seal_xml(message, "1700000000", "n2")
        import xml.etree.ElementTree as ET
        root = ET.fromstring(sealed)
        ret, plain = tencent.DecryptMsg(sealed, root.findtext("MsgSignature"), "1700000000", "n2")
        assert ret == 0 and plain.decode() == message


def test_url_verification_echostr_round_trip():
    tencent, ours = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID), MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    echostr = ours.encrypt("1234567890")
    sig = signature(TOKEN, "1700000000", "n", echostr)
    ret, plain = tencent.VerifyURL(sig, "1700000000", "n", echostr)
    assert ret == 0 and plain.decode() == "1234567890"


def test_other_corp_id_bad_signature_and_garbage_are_refused():
    ours = MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    foreign = MessageCrypto(TOKEN, AES_KEY, "wwsomeoneelse")
    encrypt = foreign.encrypt("<xml/>")
    with pytest.raises(CryptoError, match="receive id"):
        ours.open(signature(TOKEN, "1", "n", encrypt), "1", "n", encrypt)
    with pytest.raises(CryptoError, match="signature"):
        ours.open("0" * 40, "1", "n", encrypt)
    for junk in ("not base64!!", "AAAA", ours.encrypt("x")[:-8] + "AAAAAAA="):
        with pytest.raises(CryptoError):
            ours.decrypt(junk)
