#!/usr/bin/env python3
"""Writes signatures.json: known-answer vectors for both signature schemes (DESIGN.md 3.1, 3.2).

Python 3 standard library only, and written without looking at the TypeScript signer, so the vectors
check it independently. Deterministic: running it again gives the same file (gzip with mtime=0; the
compressed bytes may differ across zlib versions, which is harmless: the vector stores the wire bytes).

Each vector: name, scheme ("v1" | "legacy"), secrets (the RECEIVER's WEBHOOK_SECRET entries),
timestamp (as in the header: unix seconds, or an ISO string for legacy), now (unix seconds),
tolerance_s, body_base64 (the wire bytes), headers (as sent), valid, and for invalid ones
expected_code (the verifyRequest failure code). Legacy vectors are verified with legacy accepted.

Usage: python3 test-vectors/generate.py   (from packages/protocol)
"""
import base64
import gzip
import hashlib
import hmac
import json
import os

T = 1767268800  # 2026-01-01T12:00:00Z
TOL = 300

# Secrets, all acceptable to parseSecrets: the policy (length, leaked values) is tested elsewhere.
RAW_A = "viper-vector-raw-secret-A-0123456789abcdef"
RAW_B = "viper-vector-raw-secret-B-fedcba9876543210"
RAW_UTF8 = "密钥-viper-vector-κλειδί-raw-secret-0001"  # key = UTF-8 bytes of the text
WHSEC_32 = "whsec_" + base64.b64encode(hashlib.sha256(b"viper vector whsec 32").digest()).decode()
WHSEC_64 = "whsec_" + base64.b64encode(hashlib.sha512(b"viper vector whsec 64").digest()).decode()
# The example secret of the Standard Webhooks specification (24 bytes, the shortest accepted).
WHSEC_SPEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[6:], validate=True)
    return secret.encode("utf-8")


def v1_entry(secret, msg_id, ts, body):
    mac = hmac.new(key(secret), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def legacy_hex(secret, ts, body):
    return hmac.new(key(secret), body + b"." + ts.encode(), hashlib.sha256).hexdigest()


PAYLOAD = json.dumps(
    {
        "event_type": "nodes_updated",
        "mode": "delta",
        "timestamp": "2026-01-01T12:00:00Z",
        "source": "spiderflow",
        "nodes": [
            {"url": "trojan://pw-1@203.0.113.7:443#sg-1", "country": "SG", "latency": 123.45},
            {"url": "ss://YWVzLTI1Ni1nY206cHc@198.51.100.9:8388#jp", "country": "JP", "speed": 4.5},
        ],
    },
    separators=(",", ":"),
).encode()
NON_ASCII = json.dumps(
    {"event_type": "nodes_updated", "nodes": [{"url": "trojan://pw@203.0.113.8:443", "name": "新加坡节点 🚀 Ünïcødé"}]},
    ensure_ascii=False,
).encode("utf-8")
# A BOM and CRLF line ends: verification must see these bytes exactly, not a re-serialised object.
BOM_CRLF = b'\xef\xbb\xbf{\r\n  "event_type": "test_push",\r\n  "nodes": []\r\n}\r\n'
GZIPPED = gzip.compress(PAYLOAD, compresslevel=9, mtime=0)
BINARY = bytes(range(256))
EMPTY = b""
MSG_ID = "msg_2Xk9vL0aQz7Wb3Nf"
UUID7_ID = "019b7a5e-4c00-7a3b-9f12-3c4d5e6f7a8b"

vectors = []


def add(name, scheme, secrets, timestamp, now, body, headers, valid, code=None):
    v = {
        "name": name,
        "scheme": scheme,
        "secrets": secrets,
        "timestamp": timestamp,
        "now": now,
        "tolerance_s": TOL,
        "body_base64": base64.b64encode(body).decode(),
        "headers": headers,
        "valid": valid,
    }
    if code is not None:
        v["expected_code"] = code
    vectors.append(v)


def v1(name, body, receiver, signers=None, msg_id=MSG_ID, ts=T, now=T, valid=True, code=None, sent_body=None, extra=""):
    signers = receiver if signers is None else signers
    sig = " ".join(v1_entry(s, msg_id, ts, body) for s in signers)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": (extra + sig).strip()}
    add(name, "v1", receiver, ts, now, body if sent_body is None else sent_body, headers, valid, code)


def legacy(name, body, receiver, ts=str(T), now=T, valid=True, code=None, prefix="", sent_body=None, signer=None):
    sig = prefix + legacy_hex(signer or receiver[0], ts, body)
    headers = {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": sig}
    parsed_ts = int(ts) if ts.isdigit() else ts
    add(name, "legacy", receiver, parsed_ts, now, body if sent_body is None else sent_body, headers, valid, code)


# --- v1, valid
spec_body = b'{"test": 2432232314}'
add(
    "v1 standard-webhooks specification example",
    "v1",
    [WHSEC_SPEC],
    1614265330,
    1614265330,
    spec_body,
    {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": v1_entry(WHSEC_SPEC, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, spec_body),
    },
    True,
)
v1("v1 raw secret, JSON payload", PAYLOAD, [RAW_A])
v1("v1 raw secret with non-ASCII characters (UTF-8 key)", PAYLOAD, [RAW_UTF8])
v1("v1 whsec_ secret of 32 bytes", PAYLOAD, [WHSEC_32], msg_id=UUID7_ID)
v1("v1 whsec_ secret of 64 bytes", PAYLOAD, [WHSEC_64])
v1("v1 non-ASCII UTF-8 body", NON_ASCII, [RAW_A])
v1("v1 BOM and CRLF body verified byte for byte", BOM_CRLF, [RAW_A])
v1("v1 gzip body verified before decompression", GZIPPED, [WHSEC_32])
v1("v1 empty body (test-connection)", EMPTY, [RAW_A])
v1("v1 binary body, every byte value", BINARY, [WHSEC_64])
v1("v1 rotation: sender signs with two, receiver holds the new one", PAYLOAD, [RAW_B], signers=[RAW_A, RAW_B])
v1("v1 rotation: receiver holds two, sender signs with the old one", PAYLOAD, [RAW_B, RAW_A], signers=[RAW_A])
v1("v1 entries of other versions are ignored", PAYLOAD, [RAW_A], extra="v2,AAAA v1a,bm90LWEtc2ln ")
v1("v1 timestamp 300 s in the past passes", PAYLOAD, [RAW_A], ts=T - 300)
v1("v1 timestamp 300 s in the future passes", PAYLOAD, [RAW_A], ts=T + 300)
# --- v1, invalid
v1("v1 tampered body", PAYLOAD, [RAW_A], sent_body=PAYLOAD.replace(b"123.45", b"12.345"), valid=False, code="no_matching_signature")
v1("v1 gzip body tampered by one bit", GZIPPED, [WHSEC_32], sent_body=GZIPPED[:-1] + bytes([GZIPPED[-1] ^ 1]), valid=False, code="no_matching_signature")
v1("v1 wrong secret", PAYLOAD, [RAW_B], signers=[RAW_A], valid=False, code="no_matching_signature")
# A sender that used the whsec_ text itself as the key (no base64 decode) does not match.
add("v1 whsec_ secret used undecoded by the sender", "v1", [WHSEC_32], T, T, PAYLOAD,
    {"webhook-id": MSG_ID, "webhook-timestamp": str(T), "webhook-signature": "v1," + base64.b64encode(
        hmac.new(WHSEC_32.encode(), f"{MSG_ID}.{T}.".encode() + PAYLOAD, hashlib.sha256).digest()).decode()},
    False, "no_matching_signature")
v1("v1 timestamp 301 s in the past fails", PAYLOAD, [RAW_A], ts=T - 301, valid=False, code="outside_tolerance")
v1("v1 timestamp 301 s in the future fails", PAYLOAD, [RAW_A], ts=T + 301, valid=False, code="outside_tolerance")
v1("v1 only entries of other versions", PAYLOAD, [RAW_A], signers=[], extra="v1a,bm90LWEtc2ln v2,AAAA", valid=False, code="no_matching_signature")

# id changed after signing
tampered = dict(vectors[1]["headers"])  # "v1 raw secret, JSON payload"
tampered["webhook-id"] = MSG_ID + "x"
add("v1 webhook-id changed after signing", "v1", [RAW_A], T, T, PAYLOAD, tampered, False, "no_matching_signature")
# timestamp changed after signing (still inside the window)
tampered = dict(vectors[1]["headers"])
tampered["webhook-timestamp"] = str(T + 1)
add("v1 webhook-timestamp changed after signing", "v1", [RAW_A], T + 1, T, PAYLOAD, tampered, False, "no_matching_signature")
add("v1 timestamp not unix seconds", "v1", [RAW_A], "2026-01-01T12:00:00Z", T, PAYLOAD,
    {"webhook-id": MSG_ID, "webhook-timestamp": "2026-01-01T12:00:00Z", "webhook-signature": v1_entry(RAW_A, MSG_ID, "2026-01-01T12:00:00Z", PAYLOAD)},
    False, "malformed_timestamp")

# --- both header sets: judged by webhook-* alone
both = dict(vectors[1]["headers"])
both.update({"X-Webhook-Timestamp": str(T), "X-Webhook-Signature": "0" * 64})
add("both header sets, valid v1, garbage legacy: judged by v1", "v1", [RAW_A], T, T, PAYLOAD, both, True)
both = {"webhook-id": MSG_ID, "webhook-timestamp": str(T), "webhook-signature": v1_entry(RAW_B, MSG_ID, T, PAYLOAD),
        "X-Webhook-Timestamp": str(T), "X-Webhook-Signature": legacy_hex(RAW_A, str(T), PAYLOAD)}
add("both header sets, bad v1, valid legacy: judged by v1", "v1", [RAW_A], T, T, PAYLOAD, both, False, "no_matching_signature")

# --- legacy, valid
legacy("legacy unix seconds, raw secret", PAYLOAD, [RAW_A])
legacy("legacy whsec_ secret decoded as for v1", PAYLOAD, [WHSEC_32])
legacy("legacy sha256= prefix", PAYLOAD, [RAW_A], prefix="sha256=")
legacy("legacy ISO 8601 with Z", PAYLOAD, [RAW_A], ts="2026-01-01T12:00:00Z")
legacy("legacy ISO 8601 with +08:00 and microseconds", PAYLOAD, [RAW_A], ts="2026-01-01T20:03:20.123456+08:00")
legacy("legacy ISO 8601 with -05:00, 300 s in the past", PAYLOAD, [RAW_A], ts="2026-01-01T06:55:00-05:00")
legacy("legacy gzip body", GZIPPED, [RAW_A])
legacy("legacy non-ASCII body", NON_ASCII, [RAW_UTF8])
legacy("legacy rotation: receiver holds two", PAYLOAD, [RAW_B, RAW_A], signer=RAW_A)
# --- legacy, invalid
legacy("legacy naive ISO timestamp (no offset)", PAYLOAD, [RAW_A], ts="2026-01-01T12:00:00", valid=False, code="naive_timestamp")
legacy("legacy naive Python isoformat with microseconds", PAYLOAD, [RAW_A], ts="2026-01-01T12:00:00.123456", valid=False, code="naive_timestamp")
legacy("legacy tampered body", PAYLOAD, [RAW_A], sent_body=PAYLOAD + b" ", valid=False, code="no_matching_signature")
legacy("legacy wrong secret", PAYLOAD, [RAW_B], signer=RAW_A, valid=False, code="no_matching_signature")
legacy("legacy ISO 301 s in the future", PAYLOAD, [RAW_A], ts="2026-01-01T12:05:01Z", valid=False, code="outside_tolerance")
legacy("legacy unix 301 s in the past", PAYLOAD, [RAW_A], ts=str(T - 301), valid=False, code="outside_tolerance")
legacy("legacy uppercase hex is not accepted", PAYLOAD, [RAW_A])
vectors[-1]["headers"]["X-Webhook-Signature"] = vectors[-1]["headers"]["X-Webhook-Signature"].upper()
vectors[-1]["valid"] = False
vectors[-1]["expected_code"] = "no_matching_signature"

names = [v["name"] for v in vectors]
assert len(names) == len(set(names)), "vector names must be unique"

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signatures.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump({"vectors": vectors}, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(vectors)} vectors to test-vectors/signatures.json")
